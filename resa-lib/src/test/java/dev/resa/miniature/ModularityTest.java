package dev.resa.miniature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.resa.core.Djl;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.tuning.Lora;
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

/** Table 5's modularity on a tiny run: one row per arm, a reused cache, and an adapter that really is the target's. */
class ModularityTest {
  @TempDir Path out;

  /** Smaller than {@code ci}: every stage a handful of steps, 12 test problems, one sample. */
  static Preset tiny() {
    return Preset.ci().toBuilder().name("tiny").baseSteps(30).rlSteps(1).rlPrompts(2).rlGroup(2).saeSteps(10).saeTexts(250)
        .tuneSteps(3).tuneBatch(8).testProblems(12).samples(1).maxNewTokens(16).build();
  }

  @Test
  void targetAdapterAttachesToBaseAndTheTableReadsTheEvaluations() throws Exception {
    Preset p = tiny();
    Miniature.run(p, out, false, 0);
    Table t = Experiments.modularity(p, out, 0);
    System.out.println(t.print());

    List<String> want = Arrays.stream(Modularity.Arm.values()).map(a -> a.label).toList();
    assertEquals(want, t.stringColumn("model").asList(), "one row per arm, in order");
    for (int i = 0; i < t.rowCount(); i++) {
      double est = t.doubleColumn("pass1").get(i), lo = t.doubleColumn("pass1_lo").get(i), hi = t.doubleColumn("pass1_hi").get(i);
      assertTrue(0 <= lo && lo <= est && est <= hi && hi <= 1, "interval brackets the estimate inside [0, 1]: " + lo + " " + est + " " + hi);
    }
    // The base and self-adapter rows are the run's own evaluations: their means are the run's scores.csv values.
    Table scores = RunResult.load(Miniature.runDir(out, p, 0)).scores();
    assertEquals(passOf(scores, "base"), t.doubleColumn("pass1").get(0), 1e-9);
    assertEquals(passOf(scores, "resa"), t.doubleColumn("pass1").get(1), 1e-9);
    // A row's gain is its Pass@1 minus its plain weights' Pass@1 (arm order: base, base+own, base+target's, target, target+own).
    assertEquals(t.doubleColumn("pass1").get(2) - t.doubleColumn("pass1").get(0), t.doubleColumn("gain").get(2), 1e-9);
    assertEquals(t.doubleColumn("pass1").get(4) - t.doubleColumn("pass1").get(3), t.doubleColumn("gain").get(4), 1e-9);
    assertTrue(t.doubleColumn("gain").isMissing(0) && t.doubleColumn("gain").isMissing(3), "plain rows have no gain (NaN, missing)");

    Path run = Miniature.runDir(out, p, 0), md = Modularity.dir(run, 1);
    Djl.init();
    try (NDManager m = Djl.newManager(Djl.defaultDevice());
         DecoderLM base = HfCheckpoint.load(run.resolve("base"), m);
         DecoderLM target = HfCheckpoint.load(md.resolve("target/base"), m);
         Lora own = Lora.load(Modularity.ownAdapter(run), base.config(), m);
         Lora cross = Lora.load(Modularity.targetAdapter(run, 1), base.config(), m)) {
      String w = "model.layers.0.self_attn.q_proj.weight";
      assertFalse(Arrays.equals(base.weights().get(w).toFloatArray(), target.weights().get(w).toFloatArray()), "the target is another model");
      assertEquals(own.modules().keySet(), cross.modules().keySet(), "both adapters cover the same modules");
      String module = own.modules().keySet().iterator().next();
      assertFalse(Arrays.equals(own.modules().get(module).b().toFloatArray(), cross.modules().get(module).b().toFloatArray()),
          "the target's adapter is not base's own");
      cross.attachTo(base); // shapes fit base
      assertTrue(base.adapter() == cross);
      // The attached model on disk is base + scale * B A of the target's adapter, for one module worked out here.
      try (DecoderLM attached = HfCheckpoint.load(md.resolve("attached"), m)) {
        Lora.Pair pair = cross.modules().get(module);
        float[] expect = base.weights().get(module + ".weight").add(pair.b().matMul(pair.a()).mul(cross.config().scale())).toFloatArray();
        assertArrayEquals(expect, attached.weights().get(module + ".weight").toFloatArray(), 1e-5f);
      }
    }

    Map<Path, Long> stamps = new HashMap<>();
    try (Stream<Path> files = Files.walk(md)) {
      for (Path f : files.filter(f -> f.getFileName().toString().equals("stage.json")).toList()) stamps.put(f, Files.getLastModifiedTime(f).toMillis());
    }
    assertTrue(stamps.size() >= 6, "target base, its Stage II, the attached model and three evaluations: " + stamps.keySet());
    Table again = Experiments.modularity(p, out, 0);
    for (var e : stamps.entrySet()) assertEquals(e.getValue(), Files.getLastModifiedTime(e.getKey()).toMillis(), "rewritten: " + e.getKey());
    assertEquals(t.print(), again.print(), "the same table from the cache");
    assertThrows(IllegalArgumentException.class, () -> Experiments.modularity(p, out, 0, 0), "the target needs another seed");
  }

  private static double passOf(Table scores, String model) {
    return scores.where(scores.stringColumn("model").isEqualTo(model)).numberColumn("pass1").getDouble(0); // int when all zero
  }
}
