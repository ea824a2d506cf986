package dev.resa.miniature;

import dev.resa.eval.PairedBootstrap;
import dev.resa.eval.PairedBootstrap.Interval;
import dev.resa.eval.PairedBootstrap.Ratio;
import dev.resa.miniature.Miniature.Kind;
import dev.resa.miniature.Miniature.Route;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Paired-bootstrap 95 % intervals of the miniature's models, per seed and pooled over seeds: every model's mean Pass@1,
 * the differences the verdict reads ({@link Comparison}) and the fraction of the RL gain each tuned model recovers.
 * The input is, per route, Pass@1 problem by problem as {@code [seed][problem]} (the share of a problem's samples that
 * were right); every route and every seed must score the same test problems in the same order, which
 * {@code Stages.testSet} guarantees. A seed's own column resamples problems only; the pooled column resamples seeds and
 * problems ({@link PairedBootstrap}).
 *
 * @param seeds the training seeds, in row order of the score tables.
 * @param problems test problems per seed.
 * @param means per route, mean Pass@1.
 * @param differences per comparison, the mean paired difference.
 * @param recovered per route other than base and source, {@code (route - base) / (source - base)}.
 */
public record Intervals(List<Long> seeds, int problems, Map<Route, Stat<Interval>> means, Map<Comparison, Stat<Interval>> differences,
    Map<Route, Stat<Ratio>> recovered) {

  /** A statistic for each seed on its own (in {@link #seeds} order) and for all seeds pooled. */
  public record Stat<T>(List<T> perSeed, T pooled) {}

  /** The differences the verdict uses: {@code a - b}, paired by seed and problem. */
  public enum Comparison {
    /** The RL gain that SAE-Tuning is meant to recover. */
    SOURCE_BASE("source", "base"),
    /** What SAE-Tuning adds to base. */
    RESA_BASE("resa", "base"),
    /** How far SAE-Tuning falls short of (or beats) the RL-trained source. */
    RESA_SOURCE("resa", "source"),
    /** SAE-Tuning against the same disruption without an SAE: the control that says the SAE matters. */
    RESA_CONTROL("resa", "control-random"),
    /** SAE-Tuning against plain SFT on the same CoT-free texts (Table 3's algorithm ablation). */
    RESA_SFT_COTFREE("resa", "sft-cotfree"),
    /** SAE-Tuning against SFT on correct traces. */
    RESA_SFT_COT("resa", "sft-cot"),
    /** Base as its own source (Tina-0-step) against base. */
    SELF_BASE("resa-self", "base");

    public final Route a;
    public final Route b;

    Comparison(String a, String b) {
      this.a = Miniature.route(a);
      this.b = Miniature.route(b);
    }

    /** {@code resa - base} style label. */
    public String label() {
      return a.name() + " - " + b.name();
    }
  }

  /** The bootstrap behind every report: 10,000 replicates (the 2.5 % quantile rests on 250), level 0.95, seed 0. */
  public static final PairedBootstrap.Config BOOTSTRAP = PairedBootstrap.Config.defaults();

  /** Computes every statistic from per-route {@code [seed][problem]} Pass@1 tables (all routes of {@link Miniature#ROUTES}). */
  public static Intervals compute(List<Long> seeds, Map<Route, double[][]> scores, PairedBootstrap.Config cfg) {
    for (Route r : Miniature.ROUTES) {
      double[][] s = scores.get(r);
      if (s == null) throw new IllegalArgumentException("no per-problem scores for route " + r.name());
      if (s.length != seeds.size()) throw new IllegalArgumentException(r.name() + ": " + s.length + " seed rows for " + seeds.size() + " seeds");
    }
    double[][] base = scores.get(Miniature.route("base")), source = scores.get(Miniature.route("source"));
    Map<Route, Stat<Interval>> means = new LinkedHashMap<>();
    for (Route r : Miniature.ROUTES) means.put(r, stat(seeds.size(), (rows) -> PairedBootstrap.mean(rows.of(scores.get(r)), cfg)));
    Map<Comparison, Stat<Interval>> diffs = new LinkedHashMap<>();
    for (Comparison c : Comparison.values()) {
      diffs.put(c, stat(seeds.size(), (rows) -> PairedBootstrap.difference(rows.of(scores.get(c.a)), rows.of(scores.get(c.b)), cfg)));
    }
    Map<Route, Stat<Ratio>> recovered = new LinkedHashMap<>();
    for (Route r : Miniature.ROUTES) {
      if (r.kind() == Kind.PRETRAINING || r.kind() == Kind.RL) continue;
      recovered.put(r, stat(seeds.size(), (rows) -> PairedBootstrap.recovered(rows.of(base), rows.of(source), rows.of(scores.get(r)), cfg)));
    }
    return new Intervals(List.copyOf(seeds), base[0].length, means, diffs, recovered);
  }

  /** Which seed rows a statistic sees: one seed, or all. */
  private record Rows(int only) {
    double[][] of(double[][] all) {
      return only < 0 ? all : new double[][] {all[only]};
    }
  }

  private interface Of<T> {
    T at(Rows rows);
  }

  private static <T> Stat<T> stat(int nSeeds, Of<T> f) {
    List<T> per = new ArrayList<>();
    for (int s = 0; s < nSeeds; s++) per.add(f.at(new Rows(s)));
    return new Stat<>(per, nSeeds == 1 ? per.get(0) : f.at(new Rows(-1)));
  }

  /** Pass@1 problem by problem of every route in finished run directories (one per seed), as {@code [seed][problem]}. */
  public static Map<Route, double[][]> load(List<Path> runDirs) throws IOException {
    Map<Route, double[][]> out = new LinkedHashMap<>();
    List<String> ids = null;
    for (Route r : Miniature.ROUTES) {
      double[][] rows = new double[runDirs.size()][];
      for (int s = 0; s < runDirs.size(); s++) {
        ProblemScores ps = ProblemScores.read(Stages.problemsFile(runDirs.get(s).resolve("eval").resolve(r.name())));
        if (ids == null) ids = ps.ids();
        if (!ids.equals(ps.ids())) throw new IllegalStateException(runDirs.get(s) + ": " + r.name() + " was scored on other test problems than "
            + runDirs.get(0) + "'s base; paired intervals need the same problems in the same order");
        rows[s] = ps.pass1();
      }
      out.put(r, rows);
    }
    return out;
  }

  /**
   * Every statistic as one long table ({@code intervals.csv}): statistic (mean, difference, recovered), name, seed (a
   * number, or {@code pooled}), estimate, lo, hi, undefined replicates and replicates (recovered only, else 0).
   */
  public Table table() {
    StringColumn stat = StringColumn.create("statistic"), name = StringColumn.create("name"), seed = StringColumn.create("seed");
    DoubleColumn est = DoubleColumn.create("estimate"), lo = DoubleColumn.create("lo"), hi = DoubleColumn.create("hi");
    IntColumn undefined = IntColumn.create("undefined"), reps = IntColumn.create("resamples");
    List<String> seedNames = new ArrayList<>();
    for (long s : seeds) seedNames.add(Long.toString(s));
    if (seeds.size() > 1) seedNames.add("pooled");
    for (Row row : rows()) {
      for (int i = 0; i < seedNames.size(); i++) {
        Object v = i < seeds.size() ? row.values.perSeed().get(i) : row.values.pooled();
        Interval iv = v instanceof Ratio r ? r.interval() : (Interval) v;
        stat.append(row.statistic);
        name.append(row.name);
        seed.append(seedNames.get(i));
        est.append(iv.estimate());
        lo.append(iv.lo());
        hi.append(iv.hi());
        undefined.append(v instanceof Ratio r ? r.undefined() : 0);
        reps.append(v instanceof Ratio r ? r.resamples() : 0);
      }
    }
    return Table.create("intervals", stat, name, seed, est, lo, hi, undefined, reps);
  }

  private record Row(String statistic, String name, Stat<?> values) {}

  private List<Row> rows() {
    List<Row> out = new ArrayList<>();
    means.forEach((r, s) -> out.add(new Row("mean", r.name(), s)));
    differences.forEach((c, s) -> out.add(new Row("difference", c.label(), s)));
    recovered.forEach((r, s) -> out.add(new Row("recovered", r.name(), s)));
    return out;
  }

  /**
   * Three markdown tables: mean Pass@1 per model, the verdict's differences, and the recovered fraction of the RL gain
   * with how many replicates were undefined. One column per seed, plus a pooled column when there are several.
   */
  public String markdown() {
    StringBuilder sb = new StringBuilder();
    sb.append("### Mean Pass@1 per model (95 % paired-bootstrap interval)\n\n").append(header("model"));
    means.forEach((r, s) -> sb.append(line(r.name(), s, "%.3f")));
    sb.append("\n### Differences the verdict uses\n\n").append(header("difference"));
    differences.forEach((c, s) -> sb.append(line(c.label(), s, "%+.3f")));
    sb.append("\n### Share of the RL gain recovered, in %: 100 (model - base) / (source - base)\n\n").append(header("model").replace(" |\n|", seeds.size() > 1 ? " | undefined replicates (pooled) |\n|---|" : " | undefined replicates |\n|---|"));
    recovered.forEach((r, s) -> {
      List<Interval> per = s.perSeed().stream().map(x -> percent(x.interval())).toList();
      String row = line(r.name(), new Stat<>(per, percent(s.pooled().interval())), "%.0f");
      sb.append(row, 0, row.length() - 1).append(String.format(Locale.ROOT, " %d of %d |%n", s.pooled().undefined(), s.pooled().resamples()));
    });
    sb.append(String.format(Locale.ROOT, "%nIntervals: percentile bootstrap, %d replicates, paired by problem (%d test problems, the same for "
        + "every model and seed)%s. A recovered-gain replicate is undefined when source does not beat base in that draw; undefined "
        + "replicates are dropped, and once they outnumber a tail (2.5 %%) the interval is unbounded (-inf, +inf). All values are "
        + "in `intervals.csv`.%n", BOOTSTRAP.resamples(), problems, seeds.size() > 1 ? "; the pooled column also resamples seeds" : ""));
    return sb.toString();
  }

  private String header(String first) {
    StringBuilder h = new StringBuilder("| ").append(first).append(" |");
    for (long s : seeds) h.append(" seed ").append(s).append(" |");
    if (seeds.size() > 1) h.append(" pooled (").append(seeds.size()).append(" seeds) |");
    h.append("\n|---|");
    for (int i = 0; i < seeds.size() + (seeds.size() > 1 ? 1 : 0); i++) h.append("---|");
    return h.append('\n').toString();
  }

  private String line(String name, Stat<?> s, String fmt) {
    StringBuilder b = new StringBuilder("| ").append(name).append(" |");
    for (Object v : s.perSeed()) b.append(' ').append(cell((Interval) v, fmt)).append(" |");
    if (seeds.size() > 1) b.append(" **").append(cell((Interval) s.pooled(), fmt)).append("** |");
    return b.append('\n').toString();
  }

  /** A share as percent (for display: {@code 0.62} becomes {@code 62}). */
  private static Interval percent(Interval iv) {
    return new Interval(100 * iv.estimate(), 100 * iv.lo(), 100 * iv.hi(), iv.level());
  }

  /** {@code 0.471 [0.430, 0.512]}, signed for differences; infinite bounds as -inf / +inf, an undefined estimate as n/a. */
  static String cell(Interval iv, boolean signed) {
    return cell(iv, signed ? "%+.3f" : "%.3f");
  }

  /** {@code estimate [lo, hi]} with format {@code f} for each number. */
  static String cell(Interval iv, String f) {
    return num(iv.estimate(), f) + " [" + num(iv.lo(), f) + ", " + num(iv.hi(), f) + "]";
  }

  private static String num(double v, String f) {
    if (Double.isNaN(v)) return "n/a";
    if (Double.isInfinite(v)) return v > 0 ? "+inf" : "-inf";
    return String.format(Locale.ROOT, f, v);
  }
}
