package dev.resa.miniature;

import dev.resa.eval.PairedBootstrap.Interval;
import dev.resa.eval.PairedBootstrap.Ratio;
import dev.resa.miniature.Intervals.Comparison;
import java.util.Locale;

/**
 * The plain-language verdict, read from the pooled paired-bootstrap intervals ({@link Intervals}) rather than from a
 * fixed band: a difference counts as a win only when its whole 95 % interval lies above zero.
 */
final class Verdict {
  private Verdict() {}

  /** Where an interval of a difference lies relative to zero. */
  enum Sign {
    /** The whole interval is above zero: the first model is better. */
    ABOVE("yes"),
    /** The whole interval is below zero: the first model is worse. */
    BELOW("no"),
    /** The interval includes zero: the data cannot tell the two apart. */
    UNCLEAR("cannot tell");

    final String word;

    Sign(String word) {
      this.word = word;
    }

    static Sign of(Interval iv) {
      return iv.above(0) ? ABOVE : iv.below(0) ? BELOW : UNCLEAR;
    }
  }

  /** The share of the RL gain the project's goal asks SAE-Tuning to recover. */
  static final double GOAL = 0.8;

  /** The verdict section's body. */
  static String of(Intervals iv) {
    Interval rl = pooled(iv, Comparison.SOURCE_BASE), resaBase = pooled(iv, Comparison.RESA_BASE), resaSource = pooled(iv, Comparison.RESA_SOURCE);
    Interval ctl = pooled(iv, Comparison.RESA_CONTROL), sftFree = pooled(iv, Comparison.RESA_SFT_COTFREE), sftCot = pooled(iv, Comparison.RESA_SFT_COT);
    Ratio rec = iv.recovered().get(Miniature.route("resa")).pooled();
    boolean reproduced = rl.above(0) && resaBase.above(0) && !resaSource.below(0) && sftFree.above(0) && sftCot.above(0);
    String scope = iv.seeds().size() > 1 ? String.format(Locale.ROOT, "pooled over %d seeds (%s) and %d test problems", iv.seeds().size(),
        iv.seeds(), iv.problems()) : String.format(Locale.ROOT, "seed %d, %d test problems", iv.seeds().get(0), iv.problems());
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "The paper's ordering (CoT SFT < CoT-free SFT < base < Resa ~ source) **%s** at this scale. "
        + "Read from 95 %% paired-bootstrap intervals (%s): a claim holds when the whole interval of its difference is above 0.%n%n",
        reproduced ? "reproduced" : "did NOT reproduce", scope));
    s.append(claim("RL (source) beats base", Comparison.SOURCE_BASE, rl));
    s.append(claim("SAE-Tuning (Resa) beats base", Comparison.RESA_BASE, resaBase));
    s.append(String.format(Locale.ROOT, "- Resa comes within noise of source (or above): **%s** (%s %s; %s)%n", resaSource.below(0) ? "no" : "yes",
        Comparison.RESA_SOURCE.label(), Intervals.cell(resaSource, true),
        resaSource.below(0) ? "interval below 0" : resaSource.above(0) ? "interval above 0" : "interval not below 0"));
    s.append(String.format(Locale.ROOT, "- Resa beats both SFT baselines: **%s** (%s %s; %s %s)%n", sftFree.above(0) && sftCot.above(0) ? "yes" : "no",
        Comparison.RESA_SFT_COTFREE.label(), Intervals.cell(sftFree, true), Comparison.RESA_SFT_COT.label(), Intervals.cell(sftCot, true)));
    s.append(claim("Resa beats the random-distortion control (same starting KL, no SAE)", Comparison.RESA_CONTROL, ctl));
    s.append("- ").append(recovered(rec, ctl));
    if (!rl.above(0)) s.append(" The RL gain itself is not established (its interval is not above 0), so this share means little.");
    s.append('\n');
    s.append(goal(rec, ctl)).append('\n');
    s.append(claim("Base as its own source (Tina-0-step) beats base", Comparison.SELF_BASE, pooled(iv, Comparison.SELF_BASE)));
    return s.toString();
  }

  private static Interval pooled(Intervals iv, Comparison c) {
    return iv.differences().get(c).pooled();
  }

  /** {@code - what: **yes** (a - b +0.05 [+0.01, +0.09]; interval above 0)}. */
  static String claim(String what, Comparison c, Interval d) {
    Sign sign = Sign.of(d);
    String where = switch (sign) {
      case ABOVE -> "interval above 0";
      case BELOW -> "interval below 0";
      case UNCLEAR -> "interval includes 0";
    };
    return String.format(Locale.ROOT, "- %s: **%s** (%s %s; %s)%n", what, sign.word, c.label(), Intervals.cell(d, true), where);
  }

  /** "SAE-Tuning recovers 62 % [31 %, 95 %] of the RL gain; the interval of resa - control excludes 0 ...". */
  static String recovered(Ratio rec, Interval ctl) {
    Interval r = rec.interval();
    String ctlPart = ctl.excludes(0) ? "the interval of resa - control excludes 0 (" + (ctl.above(0) ? "above" : "below") + " the control)"
        : "the interval of resa - control includes 0 (not told apart from the control)";
    if (Double.isNaN(r.estimate())) {
      return String.format(Locale.ROOT, "SAE-Tuning's recovered share of the RL gain is **undefined**: source does not beat base on these "
          + "problems (%d of %d replicates undefined); %s.", rec.undefined(), rec.resamples(), ctlPart);
    }
    return String.format(Locale.ROOT, "SAE-Tuning recovers **%s [%s, %s]** of the RL gain (%d of %d replicates undefined); %s.",
        pct(r.estimate()), pct(r.lo()), pct(r.hi()), rec.undefined(), rec.resamples(), ctlPart);
  }

  /** The project's goal: at least {@link #GOAL} of the RL gain, with the control excluded. */
  static String goal(Ratio rec, Interval ctl) {
    Interval r = rec.interval();
    boolean point = r.estimate() >= GOAL, whole = r.lo() >= GOAL, control = ctl.above(0);
    return String.format(Locale.ROOT, "- Goal (>= %s of the RL gain, resa - control above 0): **%s** (estimate %s %s; whole interval >= %s: %s; "
        + "control excluded: %s)", pct(GOAL), point && control ? "met" : "not met", pct(r.estimate()), point ? ">= goal" : "< goal",
        pct(GOAL), whole ? "yes" : "no", control ? "yes" : "no");
  }

  /** {@code 62 %}; infinite as -inf / +inf, NaN as n/a. */
  static String pct(double v) {
    if (Double.isNaN(v)) return "n/a";
    if (Double.isInfinite(v)) return v > 0 ? "+inf" : "-inf";
    return String.format(Locale.ROOT, "%.0f %%", 100 * v);
  }
}
