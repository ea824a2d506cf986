package dev.resa.eval;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Percentile-bootstrap intervals for comparisons between models scored on the <em>same</em> test problems.
 *
 * <p>Scores come as {@code [seed][problem]}: one row per training seed, one column per test problem (for example the
 * share of a problem's samples that were right), the same problem in the same column for every model and every seed.
 * Each replicate draws seeds with replacement and, independently, problems with replacement, and uses the same draw for
 * every model it compares: pairing by problem removes the problem-difficulty variance that both models share, and
 * resampling seeds carries the run-to-run variance of training into the interval (with one seed, only problems are
 * resampled). The interval is the {@code (1 - level) / 2} and {@code (1 + level) / 2} quantiles of the replicate
 * statistics; the estimate is the statistic on the data as observed.
 */
public final class PairedBootstrap {
  private PairedBootstrap() {}

  /**
   * How the bootstrap is drawn.
   *
   * @param resamples replicates drawn (default 10,000: the 2.5 % quantile then rests on 250 replicates).
   * @param level two-sided coverage (default 0.95).
   * @param seed seed of the replicate draws, so a report is reproducible (default 0).
   */
  public record Config(int resamples, double level, long seed) {
    public Config {
      if (resamples < 100) throw new IllegalArgumentException("resamples must be >= 100, got " + resamples);
      if (!(level > 0 && level < 1)) throw new IllegalArgumentException("level must be in (0, 1), got " + level);
    }

    public static Config defaults() {
      return new Config(10_000, 0.95, 0);
    }

    public Config withResamples(int v) {
      return new Config(v, level, seed);
    }

    public Config withLevel(double v) {
      return new Config(resamples, v, seed);
    }

    public Config withSeed(long v) {
      return new Config(resamples, level, v);
    }
  }

  /**
   * A point estimate with its interval. A bound is infinite when the statistic is undefined (a ratio whose denominator
   * is not positive) in more replicates than the tail the bound stands for.
   */
  public record Interval(double estimate, double lo, double hi, double level) {
    /** True when the whole interval lies strictly above {@code v}. */
    public boolean above(double v) {
      return lo > v;
    }

    /** True when the whole interval lies strictly below {@code v}. */
    public boolean below(double v) {
      return hi < v;
    }

    /** True when {@code v} lies outside the interval. */
    public boolean excludes(double v) {
      return above(v) || below(v);
    }

    /** {@code +0.049 [+0.012, +0.085]} with {@code digits} decimals (signed, for differences). */
    public String signed(int digits) {
      String f = "%+." + digits + "f";
      return String.format(Locale.ROOT, f + " [" + f + ", " + f + "]", estimate, lo, hi);
    }

    /** {@code 0.471 [0.43, 0.51]} style, unsigned. */
    public String plain(int digits) {
      String f = "%." + digits + "f";
      return String.format(Locale.ROOT, f + " [" + f + ", " + f + "]", estimate, lo, hi);
    }
  }

  /** Mean score of one model over seeds and problems, with its interval. */
  public static Interval mean(double[][] scores, Config config) {
    check(scores, scores, "scores");
    return run(config, scores, (draw) -> draw.mean(scores)).interval();
  }

  /** Mean of {@code a - b} over seeds and problems, paired by seed and problem. */
  public static Interval difference(double[][] a, double[][] b, Config config) {
    check(a, b, "b");
    return run(config, a, (draw) -> draw.mean(a) - draw.mean(b)).interval();
  }

  /**
   * The fraction of the source's gain over base that the tuned model recovers: {@code (tuned - base) / (source -
   * base)}, each term a mean over the same drawn seeds and problems. Resa's headline (SAE-Tuning recovers most of the
   * RL gain) is this number; it is undefined where source does not beat base, so a replicate without a positive gain
   * counts as undefined and widens the interval to infinity once such replicates outnumber a tail.
   */
  public static Interval recoveredGain(double[][] base, double[][] source, double[][] tuned, Config config) {
    return recovered(base, source, tuned, config).interval();
  }

  /**
   * {@link #recoveredGain} with its bookkeeping: how many of the replicates were undefined (source not above base in
   * that draw). Undefined replicates are dropped; once they outnumber a tail the bounds are infinite.
   *
   * @param interval the estimate (NaN when source does not beat base on the data as observed) and its interval.
   * @param undefined replicates whose drawn gain {@code source - base} was not positive.
   * @param resamples replicates drawn.
   */
  public record Ratio(Interval interval, int undefined, int resamples) {}

  /** {@link #recoveredGain} and how many replicates were undefined. */
  public static Ratio recovered(double[][] base, double[][] source, double[][] tuned, Config config) {
    check(base, source, "source");
    check(base, tuned, "tuned");
    Outcome o = run(config, base, (draw) -> {
      double gain = draw.mean(source) - draw.mean(base);
      return gain > 0 ? (draw.mean(tuned) - draw.mean(base)) / gain : Double.NaN;
    });
    return new Ratio(o.interval(), o.undefined(), config.resamples());
  }

  /** A statistic of one bootstrap draw (or of the observed data, for the identity draw). */
  private interface Statistic {
    double of(Draw draw);
  }

  /** Which seeds and which problems a replicate uses, as index multisets. */
  private record Draw(int[] seeds, int[] problems) {
    double mean(double[][] scores) {
      double sum = 0;
      for (int s : seeds) {
        double[] row = scores[s];
        for (int p : problems) sum += row[p];
      }
      return sum / ((double) seeds.length * problems.length);
    }

    static Draw identity(int nSeeds, int nProblems) {
      int[] s = new int[nSeeds];
      int[] p = new int[nProblems];
      for (int i = 0; i < nSeeds; i++) s[i] = i;
      for (int i = 0; i < nProblems; i++) p[i] = i;
      return new Draw(s, p);
    }
  }

  /** An interval and the number of replicates on which the statistic was undefined. */
  private record Outcome(Interval interval, int undefined) {}

  private static Outcome run(Config config, double[][] shape, Statistic stat) {
    int nSeeds = shape.length;
    int nProblems = shape[0].length;
    double estimate = stat.of(Draw.identity(nSeeds, nProblems));
    SplittableRandom rng = new SplittableRandom(config.seed());
    double[] reps = new double[config.resamples()];
    int undefined = 0;
    int[] seeds = new int[nSeeds];
    int[] problems = new int[nProblems];
    Draw draw = new Draw(seeds, problems);
    for (int r = 0; r < reps.length; r++) {
      if (nSeeds == 1) seeds[0] = 0;
      else for (int i = 0; i < nSeeds; i++) seeds[i] = rng.nextInt(nSeeds);
      for (int i = 0; i < nProblems; i++) problems[i] = rng.nextInt(nProblems);
      reps[r] = stat.of(draw);
      if (Double.isNaN(reps[r])) undefined++;
    }
    double tail = (1 - config.level()) / 2;
    if (undefined > tail * reps.length) {
      return new Outcome(new Interval(estimate, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, config.level()), undefined);
    }
    // Undefined replicates (at most a tail's worth) are dropped from the side they cannot be placed on: both.
    double[] defined = Arrays.stream(reps).filter(v -> !Double.isNaN(v)).sorted().toArray();
    return new Outcome(new Interval(estimate, quantile(defined, tail), quantile(defined, 1 - tail), config.level()), undefined);
  }

  /** The {@code q} quantile of sorted values, linear between order statistics (numpy's default, "linear"). */
  static double quantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }

  private static void check(double[][] a, double[][] b, String name) {
    if (a.length == 0 || a[0].length == 0) throw new IllegalArgumentException("no scores: need at least one seed and one problem");
    if (b.length != a.length) throw new IllegalArgumentException(name + " has " + b.length + " seeds, expected " + a.length);
    for (int s = 0; s < a.length; s++) {
      if (a[s].length != a[0].length || b[s].length != a[0].length) {
        throw new IllegalArgumentException(name + ": seed " + s + " scores " + b[s].length + " problems, expected " + a[0].length
            + " (paired comparisons need the same test problems in the same order)");
      }
    }
  }
}
