package dev.resa.miniature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resa.eval.PairedBootstrap;
import dev.resa.eval.PairedBootstrap.Interval;
import dev.resa.eval.PairedBootstrap.Ratio;
import dev.resa.miniature.Intervals.Comparison;
import dev.resa.miniature.Miniature.Route;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** The pooled statistics and their report text on synthetic per-problem tables; expected values worked out by hand. */
class IntervalsTest {
  private static final PairedBootstrap.Config FAST = PairedBootstrap.Config.defaults().withResamples(2_000);
  private static final int P = 40;

  /** Every route at a constant per-problem score {@code level[seed]}, overridden per route by {@code values}. */
  private static Map<Route, double[][]> constant(int seeds, Map<String, double[]> values) {
    Map<Route, double[][]> out = new LinkedHashMap<>();
    for (Route r : Miniature.ROUTES) {
      double[] perSeed = values.getOrDefault(r.name(), values.get("base"));
      double[][] t = new double[seeds][P];
      for (int s = 0; s < seeds; s++) java.util.Arrays.fill(t[s], perSeed[s]);
      out.put(r, t);
    }
    return out;
  }

  private static double[] filled(double v) {
    double[] row = new double[P];
    java.util.Arrays.fill(row, v);
    return row;
  }

  @Test
  void constantTablesGiveExactValuesAndZeroWidthIntervals() {
    // base 0.2, source 0.6, resa 0.5, control 0.3, SFTs 0.1: every draw sees the same means.
    Map<Route, double[][]> s = constant(1, Map.of("base", new double[] {0.2}, "source", new double[] {0.6}, "resa", new double[] {0.5},
        "control-random", new double[] {0.3}, "sft-cotfree", new double[] {0.1}, "sft-cot", new double[] {0.1}));
    Intervals iv = Intervals.compute(List.of(7L), s, FAST);
    Interval resa = iv.means().get(Miniature.route("resa")).pooled();
    assertEquals(0.5, resa.estimate(), 1e-12);
    assertEquals(0.5, resa.lo(), 1e-12);
    assertEquals(0.5, resa.hi(), 1e-12);
    assertEquals(0.4, iv.differences().get(Comparison.SOURCE_BASE).pooled().estimate(), 1e-12);
    assertEquals(0.2, iv.differences().get(Comparison.RESA_CONTROL).pooled().lo(), 1e-12);
    Ratio rec = iv.recovered().get(Miniature.route("resa")).pooled();
    assertEquals((0.5 - 0.2) / (0.6 - 0.2), rec.interval().estimate(), 1e-12); // 0.75
    assertEquals(0.75, rec.interval().lo(), 1e-12);
    assertEquals(0, rec.undefined());
    // control recovers (0.3 - 0.2) / 0.4 = 25 %; base and source have no recovered row
    assertEquals(0.25, iv.recovered().get(Miniature.route("control-random")).pooled().interval().estimate(), 1e-12);
    assertEquals(Miniature.ROUTES.size() - 2, iv.recovered().size());
    assertEquals(1, iv.means().get(Miniature.route("base")).perSeed().size(), "one seed, one per-seed column");
    assertTrue(iv.markdown().contains("| resa | 75 [75, 75] | 0 of 2000 |"), "recovered share in percent: " + iv.markdown());
  }

  @Test
  void pooledIntervalResamplesSeeds() {
    // resa - base is +0.1 on every problem of seed 0 and +0.3 on every problem of seed 1. A pooled replicate draws two
    // seeds with replacement: {0,0} -> 0.1 (p 1/4), {0,1} -> 0.2 (p 1/2), {1,1} -> 0.3 (p 1/4); problems do not matter.
    // So the 2.5 % and 97.5 % quantiles are 0.1 and 0.3, and the estimate is the mean 0.2.
    Map<Route, double[][]> s = constant(2, Map.of("base", new double[] {0.4, 0.4}, "resa", new double[] {0.5, 0.7}));
    Intervals iv = Intervals.compute(List.of(0L, 1L), s, FAST);
    Intervals.Stat<Interval> d = iv.differences().get(Comparison.RESA_BASE);
    assertEquals(0.1, d.perSeed().get(0).estimate(), 1e-12);
    assertEquals(0.1, d.perSeed().get(0).hi(), 1e-12);
    assertEquals(0.3, d.perSeed().get(1).lo(), 1e-12);
    assertEquals(0.2, d.pooled().estimate(), 1e-12);
    assertEquals(0.1, d.pooled().lo(), 1e-12);
    assertEquals(0.3, d.pooled().hi(), 1e-12);
  }

  @Test
  void meanMatchesAHandComputedMeanOnNoisyData() {
    Random rng = new Random(3);
    Map<Route, double[][]> s = new LinkedHashMap<>();
    for (Route r : Miniature.ROUTES) {
      double[][] t = new double[2][P];
      for (double[] row : t) for (int i = 0; i < P; i++) row[i] = rng.nextInt(5) / 4.0; // 4 samples per problem
      s.put(r, t);
    }
    Intervals iv = Intervals.compute(List.of(0L, 1L), s, FAST);
    double[][] resa = s.get(Miniature.route("resa"));
    double sum0 = 0, sum1 = 0;
    for (int i = 0; i < P; i++) {
      sum0 += resa[0][i];
      sum1 += resa[1][i];
    }
    Intervals.Stat<Interval> m = iv.means().get(Miniature.route("resa"));
    assertEquals(sum0 / P, m.perSeed().get(0).estimate(), 1e-12);
    assertEquals(sum1 / P, m.perSeed().get(1).estimate(), 1e-12);
    assertEquals((sum0 + sum1) / (2 * P), m.pooled().estimate(), 1e-12);
    assertTrue(m.pooled().lo() < m.pooled().estimate() && m.pooled().estimate() < m.pooled().hi(), "noisy data, a real interval");

    Table t = iv.table();
    int rows = Miniature.ROUTES.size() + Comparison.values().length + (Miniature.ROUTES.size() - 2);
    assertEquals(3 * rows, t.rowCount(), "each statistic for seed 0, seed 1 and pooled");
    Table pooledResa = t.where(t.stringColumn("statistic").isEqualTo("mean").and(t.stringColumn("name").isEqualTo("resa"))
        .and(t.stringColumn("seed").isEqualTo("pooled")));
    assertEquals(1, pooledResa.rowCount());
    assertEquals((sum0 + sum1) / (2 * P), pooledResa.doubleColumn("estimate").get(0), 1e-12);
  }

  @Test
  void withoutAnRlGainTheRecoveredShareIsUndefinedAndSaysSo() {
    Map<Route, double[][]> s = constant(1, Map.of("base", new double[] {0.5}, "resa", new double[] {0.6}));
    Intervals iv = Intervals.compute(List.of(0L), s, FAST);
    Ratio rec = iv.recovered().get(Miniature.route("resa")).pooled();
    assertTrue(Double.isNaN(rec.interval().estimate()));
    assertEquals(FAST.resamples(), rec.undefined(), "source never beats base: every replicate undefined");
    assertTrue(Double.isInfinite(rec.interval().lo()) && Double.isInfinite(rec.interval().hi()));
    String md = iv.markdown();
    assertTrue(md.contains("| resa | n/a [-inf, +inf] | 2000 of 2000 |"), md);
    String v = Verdict.of(iv);
    assertTrue(v.contains("**undefined**") && v.contains("2000 of 2000 replicates undefined"), v);
    assertTrue(v.contains("RL (source) beats base: **cannot tell**"), v);
  }

  @Test
  void verdictReadsTheIntervals() {
    // source 0.6, base 0.2, resa 0.6 -> recovers 0.4 / 0.4 = 100 %; control 0.3 -> resa - control +0.3; SFTs below resa.
    Map<Route, double[][]> s = constant(2, Map.of("base", new double[] {0.2, 0.2}, "source", new double[] {0.6, 0.6},
        "resa", new double[] {0.6, 0.6}, "control-random", new double[] {0.3, 0.3}, "sft-cotfree", new double[] {0.1, 0.1},
        "sft-cot", new double[] {0.05, 0.05}));
    String v = Verdict.of(Intervals.compute(List.of(0L, 1L), s, FAST));
    assertTrue(v.contains("**reproduced**"), v);
    assertTrue(v.contains("pooled over 2 seeds ([0, 1]) and 40 test problems"), v);
    assertTrue(v.contains("- RL (source) beats base: **yes** (source - base +0.400 [+0.400, +0.400]; interval above 0)"), v);
    assertTrue(v.contains("SAE-Tuning recovers **100 % [100 %, 100 %]** of the RL gain (0 of 2000 replicates undefined); "
        + "the interval of resa - control excludes 0 (above the control)."), v);
    assertTrue(v.contains("Goal (>= 80 % of the RL gain, resa - control above 0): **met**"), v);
    assertTrue(v.contains("Resa comes within noise of source (or above): **yes**"), v);

    // resa 0.56: 0.36 / 0.4 = 90 % of the gain, but its interval against source lies below 0, so the ordering fails
    Map<Route, double[][]> below = new LinkedHashMap<>(s);
    below.put(Miniature.route("resa"), new double[][] {filled(0.56), filled(0.56)});
    String u = Verdict.of(Intervals.compute(List.of(0L, 1L), below, FAST));
    assertTrue(u.contains("**did NOT reproduce**") && u.contains("Resa comes within noise of source (or above): **no**"), u);
    assertTrue(u.contains("recovers **90 % [90 %, 90 %]**") && u.contains("**met** (estimate 90 % >= goal"), u);

    // resa no better than the control: the control is not excluded and the goal is not met
    Map<Route, double[][]> t = constant(1, Map.of("base", new double[] {0.2}, "source", new double[] {0.6}, "resa", new double[] {0.3},
        "control-random", new double[] {0.3}));
    String w = Verdict.of(Intervals.compute(List.of(4L), t, FAST));
    assertTrue(w.contains("**did NOT reproduce**") && w.contains("seed 4, 40 test problems"), w);
    assertTrue(w.contains("recovers **25 % [25 %, 25 %]**") && w.contains("includes 0 (not told apart from the control)"), w);
    assertTrue(w.contains("**not met**") && w.contains("control excluded: no"), w);
    assertTrue(w.contains("Resa beats the random-distortion control (same starting KL, no SAE): **cannot tell**"), w);
  }

  @Test
  void markdownHasOneColumnPerSeedAndAPooledOne() {
    Map<Route, double[][]> s = constant(2, Map.of("base", new double[] {0.25, 0.75}));
    String md = Intervals.compute(List.of(3L, 4L), s, FAST).markdown();
    assertTrue(md.contains("| model | seed 3 | seed 4 | pooled (2 seeds) |\n|---|---|---|---|\n"), md);
    assertTrue(md.contains("| base | 0.250 [0.250, 0.250] | 0.750 [0.750, 0.750] | **0.500 [0.250, 0.750]** |"), md);
    assertTrue(md.contains("| resa - base | +0.000 [+0.000, +0.000] |"), md);
    assertTrue(md.contains("| model | seed 3 | seed 4 | pooled (2 seeds) | undefined replicates (pooled) |\n|---|---|---|---|---|\n"), md);
  }

  @Test
  void mismatchedTablesAreRejected() {
    Map<Route, double[][]> s = constant(2, Map.of("base", new double[] {0.2, 0.2}));
    assertThrows(IllegalArgumentException.class, () -> Intervals.compute(List.of(0L), s, FAST), "two seed rows for one seed");
    Map<Route, double[][]> missing = new LinkedHashMap<>(s);
    missing.remove(Miniature.route("sft-cot"));
    assertThrows(IllegalArgumentException.class, () -> Intervals.compute(List.of(0L, 1L), missing, FAST));
  }

  @Test
  void problemScoresRoundTripThroughCsv(@TempDir Path dir) throws Exception {
    ProblemScores ps = new ProblemScores(List.of("(1+2)*3", "4-5"), new double[] {0.75, 0}, new double[] {1, 0}, new double[] {0.5, 0.25});
    Path f = dir.resolve("eval/base/problems.csv");
    ps.write(f);
    ProblemScores back = ProblemScores.read(f);
    assertEquals(ps.ids(), back.ids());
    assertEquals(0.75, back.pass1()[0], 0);
    assertEquals(1, back.greedy()[0], 0);
    assertEquals(0.25, back.think()[1], 0);
    assertThrows(IllegalArgumentException.class, () -> new ProblemScores(List.of("a"), new double[2], new double[1], new double[1]));
  }

  @Test
  void departuresNameTheRecipeAndTheReason() {
    String md = Departures.markdown(Preset.ci(), null);
    assertTrue(md.startsWith("| topic | paper (code where they differ) | here | reason | why |"), md);
    assertTrue(md.contains("| LoRA (Stage II, SFT, GRPO) | r 32, alpha 128 (scale 4), dropout 0.05, all 7 projections | r 4, alpha 16 (scale 4), "
        + "dropout 0.05, all 7 projections (Stage II: of the layers after the splice"), md);
    assertTrue(md.contains("| source (Tina) | GRPO + LoRA for ~2000 steps; reward 2 accuracy + 1 format; lr 1e-6, 10 % warm-up, cosine to 10 %"), md);
    assertTrue(md.contains("reward 2 accuracy + 1 format (format: `</think>` once, then one answer in the task's form); Tina's warm-up, cosine "
        + "and weight decay at peak lr 0.0001; KL 0.05 to base | toy scale |"), md);
    assertTrue(md.contains("| GRPO sampling temperature | T 0.7 (Tina's recipes) | T 0.6 | toy scale, chosen on validation |"), md);
    assertTrue(!md.contains("not yet moved"), "every departure of the ci preset has a reason other than 'not yet moved'");
    assertTrue(!Departures.markdown(Preset.ci().toBuilder().rlTemperature(0.7).build(), null).contains("GRPO sampling temperature"),
        "Tina's temperature is the recipe, not a departure");
    assertTrue(md.contains("loss on the whole text: prompt and completion) at Stage II's lr 0.0005, 40 steps of 32 texts, the task's own text "
        + "form | sounder than the paper |"), md);
    assertTrue(!md.contains("loss on completion tokens only"), md);
    assertTrue(!md.contains("Stage I optimiser"), "SignSGD + Schedule-Free at the automatic lr is the recipe, not a departure");
    assertTrue(Departures.markdown(Preset.ci().toBuilder().saeLr(1e-3).build(), null).contains("Stage I optimiser"));
    for (Preset p : List.of(Preset.defaults(), Preset.ci(), Preset.longer())) {
      assertEquals(4.0, p.loraAlpha() / p.loraRank(), 0, p.name() + ": LoRA scale alpha / r is the recipe's 4");
    }
  }
}
