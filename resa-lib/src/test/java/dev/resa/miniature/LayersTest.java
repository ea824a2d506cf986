package dev.resa.miniature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** Table 6 and Figure 3 on a tiny run: one row per layer, intervals from the per-problem scores, a reused cache. */
class LayersTest {
  @TempDir Path out;

  @Test
  void layerSweepHasIntervalsAndFeatureCountsCoverBothModels() throws Exception {
    Preset p = ModularityTest.tiny(); // 4 layers, hook layer 2
    Miniature.run(p, out, false, 0);
    Path run = Miniature.runDir(out, p, 0);
    Table sweep = Experiments.layerSweep(p, out, 0);
    System.out.println(sweep.print());
    assertEquals(p.layers(), sweep.rowCount(), "one row per layer");
    assertEquals(List.of(0, 1, 2, 3), sweep.intColumn("layer").asList());
    Table scores = RunResult.load(run).scores();
    double base = passOf(scores, "base");
    for (int layer = 0; layer < p.layers() - 1; layer++) {
      double est = sweep.doubleColumn("pass1").get(layer), lo = sweep.doubleColumn("pass1_lo").get(layer), hi = sweep.doubleColumn("pass1_hi").get(layer);
      assertTrue(0 <= lo && lo <= est && est <= hi && hi <= 1, "layer " + layer + ": " + lo + " " + est + " " + hi);
      double[] perProblem = ProblemScores.read(run.resolve("experiments/layer-" + layer + "/eval/problems.csv")).pass1();
      assertEquals(Arrays.stream(perProblem).average().orElseThrow(), est, 1e-9, "Pass@1 is the mean over the layer's test problems");
      assertEquals(est - base, sweep.doubleColumn("gain").get(layer), 1e-9, "gain = layer's Pass@1 - base's (scores.csv)");
    }
    assertEquals(passOf(scores, "resa"), sweep.doubleColumn("pass1").get(p.hookLayer()), 1e-9, "the hook layer's row repeats the run's resa");
    assertTrue(sweep.doubleColumn("pass1").isMissing(p.layers() - 1) && sweep.doubleColumn("pass1_lo").isMissing(p.layers() - 1),
        "the last layer has no Stage II");

    Table features = Experiments.reasoningFeatures(p, out, 0, 6, 0.5);
    System.out.println(features.print());
    assertEquals(List.of("layer", "reasoning_base", "reasoning_source", "tag_only_base", "tag_only_source"), features.columnNames());
    assertEquals(p.layers(), features.rowCount());
    for (String model : List.of("base", "source")) {
      for (int layer = 0; layer < p.layers(); layer++) {
        int reasoning = features.intColumn("reasoning_" + model).get(layer), tagOnly = features.intColumn("tag_only_" + model).get(layer);
        assertTrue(0 <= reasoning && reasoning <= tagOnly && tagOnly <= p.saeLatents(), model + " layer " + layer + ": " + reasoning + " <= " + tagOnly);
      }
    }
    for (int layer = 0; layer < p.layers(); layer++) {
      assertTrue(Files.isRegularFile(run.resolve("experiments/base-layer-" + layer + "/sae/stage.json")), "base's own SAE at layer " + layer);
      assertTrue(Files.notExists(run.resolve("experiments/base-layer-" + layer + "/tuned")), "base's SAEs are SAE-only");
    }

    Map<Path, Long> stamps = new HashMap<>();
    try (Stream<Path> files = Files.walk(run.resolve("experiments"))) {
      for (Path f : files.filter(f -> f.getFileName().toString().equals("stage.json")).toList()) stamps.put(f, Files.getLastModifiedTime(f).toMillis());
    }
    assertEquals(sweep.print(), Experiments.layerSweep(p, out, 0).print(), "the same sweep from the cache");
    assertEquals(features.print(), Experiments.reasoningFeatures(p, out, 0, 6, 0.5).print(), "the same counts from the cache");
    for (var e : stamps.entrySet()) assertEquals(e.getValue(), Files.getLastModifiedTime(e.getKey()).toMillis(), "rewritten: " + e.getKey());
  }

  @Test
  void aLatentCountsWhenItPassesOnEnoughTexts() {
    Map<Integer, Integer> hits = Map.of(1, 3, 2, 1, 5, 2); // latent -> texts it passed on
    assertEquals(2, LayerFeatures.kept(hits, 2.0));
    assertEquals(1, LayerFeatures.kept(hits, 2.5));
    assertEquals(3, LayerFeatures.kept(hits, 1.0));
  }

  private static double passOf(Table scores, String model) {
    return scores.where(scores.stringColumn("model").isEqualTo(model)).numberColumn("pass1").getDouble(0);
  }
}
