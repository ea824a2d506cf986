package dev.resa.miniature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.resa.core.Djl;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** Table 5's modularity with a target continued from base: it starts from base's weights, and the table has every arm. */
class ModularityContinuedTest {
  @TempDir Path out;

  @Test
  void continuedTargetStartsFromBaseAndTheTableHasEveryArm() throws Exception {
    Preset p = ModularityTest.tiny(); // baseSteps 30
    Miniature.run(p, out, false, 0);
    Path run = Miniature.runDir(out, p, 0);
    Modularity.Target.Continued kind = Modularity.Target.Continued.traced();
    Table t = Experiments.modularity(p, out, 0, kind);
    System.out.println(t.print());

    assertEquals(Arrays.stream(Modularity.Arm.values()).map(a -> a.label).toList(), t.stringColumn("model").asList(), "one row per arm, in order");
    assertEquals(List.of("model", "weights", "adapter", "pass1", "pass1_lo", "pass1_hi", "gain", "gain_lo", "gain_hi", "think", "start_kl"),
        t.columnNames());
    assertEquals(t.doubleColumn("pass1").get(2) - t.doubleColumn("pass1").get(0), t.doubleColumn("gain").get(2), 1e-9, "base + target's adapter minus base");
    assertEquals(t.doubleColumn("pass1").get(4) - t.doubleColumn("pass1").get(3), t.doubleColumn("gain").get(4), 1e-9, "target + own minus target");

    Path md = Modularity.dir(run, kind);
    assertEquals(run.resolve("experiments/modularity-c0.25-t1.0"), md);
    assertEquals(8.0, RunCache.read(md.resolve("target/base")).get("steps"), "a quarter of base's 30 steps, rounded");

    Djl.init();
    try (NDManager m = Djl.newManager(Djl.defaultDevice())) {
      // A zero-step continuation is base, weight for weight: the target starts from base's weights, not a fresh init.
      Path zero = out.resolve("zero");
      new Stages(Preset.ofRun(run), run, 0, m).continued(zero, RunCache.keyOf(run.resolve("base")), 0, 1.0);
      assertEquals(0.0, RunCache.read(zero).get("tokens"));
      try (DecoderLM base = HfCheckpoint.load(run.resolve("base"), m);
           DecoderLM same = HfCheckpoint.load(zero, m);
           DecoderLM target = HfCheckpoint.load(md.resolve("target/base"), m)) {
        for (String w : base.weights().asMap().keySet()) {
          assertArrayEquals(base.weights().get(w).toFloatArray(), same.weights().get(w).toFloatArray(), w);
        }
        String w = "model.layers.0.self_attn.q_proj.weight";
        NDArray b = base.weights().get(w), c = target.weights().get(w);
        assertFalse(Arrays.equals(b.toFloatArray(), c.toFloatArray()), "8 steps moved the target off base");
        // An unrelated init of the same scale would sit about sqrt(2) base-norms away; a short continuation stays near.
        double rel = c.sub(b).norm().getFloat() / b.norm().getFloat();
        assertTrue(rel < 0.5, "the continued target stays close to base: relative distance " + rel);
      }
    }
    assertThrows(IllegalArgumentException.class, () -> new Modularity.Target.Continued(1.5, 1.0));
  }
}
