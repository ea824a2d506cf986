package dev.resa.miniature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** The source sweep on the {@code ci} preset (a ci run first, about 3 minutes on 2 cores, then two source steps). */
class SourceSweepTest {
  @TempDir Path out;

  @Test
  void checkpointStepsOfTheCiPreset() {
    // ci: 8 GRPO rounds, a kept adapter every 8 / 4 = 2 rounds
    assertEquals(2, SourceSweep.checkpointEvery(Preset.ci()));
    assertArrayEquals(new int[] {0, 2, 4, 6, 8}, SourceSweep.availableSteps(Preset.ci()));
    // 24 rounds (default): every 6; 10 rounds: every 2, and the finished source (10) is available too
    assertArrayEquals(new int[] {0, 6, 12, 18, 24}, SourceSweep.availableSteps(Preset.defaults()));
    assertArrayEquals(new int[] {0, 2, 4, 6, 8, 10}, SourceSweep.availableSteps(Preset.ci().toBuilder().rlSteps(10).build()));
  }

  @Test
  void sweepsSourceStepsAndReusesItsCache() throws Exception {
    Preset p = Preset.ci();
    RunResult r = Miniature.run(p, out, false, 0);
    Path dir = r.dir();
    for (int k : new int[] {2, 4, 6, 8}) assertTrue(Files.isRegularFile(dir.resolve("source/checkpoint-" + k + "/adapter_model.safetensors")), "kept adapter " + k);

    Table t = Experiments.sourceSweep(p, out, 0, 0, 2);
    System.out.println(t.print());
    assertEquals(2, t.rowCount(), "one row per source step");
    assertArrayEquals(new int[] {0, 2}, t.intColumn("source_step").asIntArray());

    // Step 0: base is the source, so Stage I is the SELF mode's (same activations, same key, same weights) and the
    // tuned model is the main run's resa-self.
    Path step0 = dir.resolve("experiments/source-step-0");
    assertEquals(RunCache.keyOf(dir.resolve("sae/self")), RunCache.keyOf(step0.resolve("sae")), "step 0's SAE has SELF's cache key");
    assertArrayEquals(Files.readAllBytes(dir.resolve("sae/self/sae.safetensors")), Files.readAllBytes(step0.resolve("sae/sae.safetensors")),
        "step 0's SAE has SELF's weights");
    assertFalse(Files.exists(step0.resolve("model")), "no merged model for step 0: base itself is the source");
    Table scores = r.scores();
    assertEquals(pass1(scores, "base"), t.doubleColumn("source_pass1").get(0), 1e-12, "step 0's source is base");
    assertEquals(pass1(scores, "resa-self"), t.doubleColumn("pass1").get(0), 1e-12, "step 0's SAE-Tuning is resa-self");
    assertEquals(RunCache.read(dir.resolve("tuned/resa-self")).get("start_kl"), t.doubleColumn("start_kl").get(0), 1e-9);
    assertEquals(pass1(scores, "resa-self") - pass1(scores, "base"), t.doubleColumn("vs_base").get(0), 1e-9, "vs_base is the paired mean difference");

    // Step 2: base + the kept step-2 adapter, a model of its own (neither base nor source).
    Path model2 = dir.resolve("experiments/source-step-2/model/model.safetensors");
    assertTrue(Files.isRegularFile(model2), "step 2's source merged");
    byte[] w2 = Files.readAllBytes(model2);
    assertFalse(java.util.Arrays.equals(w2, Files.readAllBytes(dir.resolve("base/model.safetensors"))), "step 2 differs from base");
    assertFalse(java.util.Arrays.equals(w2, Files.readAllBytes(dir.resolve("source/model.safetensors"))), "step 2 differs from the finished source");
    for (int i = 0; i < t.rowCount(); i++) {
      double p1 = t.doubleColumn("pass1").get(i);
      assertTrue(t.doubleColumn("pass1_lo").get(i) <= p1 && p1 <= t.doubleColumn("pass1_hi").get(i), "interval around the estimate");
      assertTrue(t.doubleColumn("vs_base_lo").get(i) <= t.doubleColumn("vs_base_hi").get(i));
    }

    // A second call trains and scores nothing: every stage marker under experiments/ keeps its time stamp.
    Map<Path, Long> stamps = new HashMap<>();
    try (Stream<Path> files = Files.walk(dir.resolve("experiments"))) {
      for (Path f : files.filter(f -> f.getFileName().toString().equals("stage.json")).toList()) stamps.put(f, Files.getLastModifiedTime(f).toMillis());
    }
    // base eval + per step: sae, tuned, eval (+ step 2's merged model and source eval)
    assertEquals(1 + 3 + 5, stamps.size(), "stage markers: " + stamps.keySet());
    long t0 = System.nanoTime();
    Table again = Experiments.sourceSweep(p, out, 0, 0, 2);
    System.out.printf("second call: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    for (var e : stamps.entrySet()) assertEquals(e.getValue(), Files.getLastModifiedTime(e.getKey()).toMillis(), "rewritten: " + e.getKey());
    assertEquals(t.print(), again.print(), "the same table from the cache");

    IllegalArgumentException notKept = assertThrows(IllegalArgumentException.class, () -> Experiments.sourceSweep(p, out, 0, 3));
    assertTrue(notKept.getMessage().contains("[0, 2, 4, 6, 8]"), notKept.getMessage());
  }

  private static double pass1(Table scores, String model) {
    return scores.where(scores.stringColumn("model").isEqualTo(model)).doubleColumn("pass1").get(0);
  }
}
