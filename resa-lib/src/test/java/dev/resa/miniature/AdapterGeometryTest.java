package dev.resa.miniature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.resa.core.Djl;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.tuning.LoraConfig;
import dev.resa.tuning.UpdateGeometry;
import dev.resa.tuning.PeftFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** The update geometry of a tiny run: one row per adapted matrix, and cosines that the merged models' weights confirm. */
class AdapterGeometryTest {
  @TempDir Path out;

  @Test
  void oneRowPerAdaptedMatrixAndCosinesMatchTheMergedWeights() throws Exception {
    Preset p = ModularityTest.tiny(); // 4 layers, splice after layer 2: Stage II adapts layer 3 only
    Miniature.run(p, out, false, 0);
    Table t = Experiments.updateGeometry(p, out, 0);
    System.out.println(t.print());
    assertEquals(LoraConfig.ALL_TARGETS.size(), t.rowCount(), "seven projections of layer 3");
    assertEquals(Set.of(3), new HashSet<>(t.intColumn("layer").asList()));
    assertEquals(LoraConfig.ALL_TARGETS, t.stringColumn("projection").asList());
    // At this size GRPO sees no reward variance, so its update is exactly zero and every cosine with it is undefined.
    for (int i = 0; i < t.rowCount(); i++) {
      for (String c : List.of("resa", "control", "random")) {
        assertTrue(t.doubleColumn("cosine_" + c).isMissing(i) && t.doubleColumn("overlap_" + c).isMissing(i), "no RL update, no geometry: " + c + " row " + i);
      }
    }

    // With resa's own adapter standing in for RL's, SAE-Tuning's row must be 1, and the control's cosine must be the
    // one the saved merged models give: (W_control - W_base) against (W_resa - W_base).
    Path run = Miniature.runDir(out, p, 0);
    Path rl = run.resolve("source/adapter");
    for (String f : List.of(PeftFormat.CONFIG, PeftFormat.WEIGHTS)) {
      Files.copy(run.resolve("tuned/resa/adapter").resolve(f), rl.resolve(f), StandardCopyOption.REPLACE_EXISTING);
    }
    Table same = Experiments.updateGeometry(p, out, 0);
    System.out.println(same.print());
    for (int i = 0; i < same.rowCount(); i++) {
      assertEquals(1, same.doubleColumn("cosine_resa").get(i), 1e-9, "an update against itself");
      assertEquals(1, same.doubleColumn("overlap_resa").get(i), 1e-6, "a subspace against itself");
      for (String c : List.of("control", "random")) {
        double cos = same.doubleColumn("cosine_" + c).get(i), overlap = same.doubleColumn("overlap_" + c).get(i);
        assertTrue(Math.abs(cos) <= 1 + 1e-9 && overlap >= 0 && overlap <= 1 + 1e-9, c + " row " + i + ": " + cos + ", " + overlap);
      }
    }
    Djl.init();
    try (NDManager m = Djl.newManager(Djl.defaultDevice());
         DecoderLM base = HfCheckpoint.load(run.resolve("base"), m);
         DecoderLM resa = HfCheckpoint.load(run.resolve("tuned/resa"), m);
         DecoderLM control = HfCheckpoint.load(run.resolve("tuned/control-random"), m)) {
      String w = LoraConfig.modulePath(3, "q_proj") + ".weight";
      double[][] b = matrix(base, w), dResa = minus(matrix(resa, w), b), dControl = minus(matrix(control, w), b);
      assertEquals(UpdateGeometry.cosine(dControl, dResa), same.doubleColumn("cosine_control").get(0), 1e-3);
    }
  }

  private static double[][] matrix(DecoderLM model, String name) {
    var a = model.weights().get(name);
    int rows = (int) a.getShape().get(0), cols = (int) a.getShape().get(1);
    float[] f = a.toFloatArray();
    double[][] out = new double[rows][cols];
    for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) out[i][j] = f[i * cols + j];
    return out;
  }

  private static double[][] minus(double[][] a, double[][] b) {
    double[][] out = new double[a.length][a[0].length];
    for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) out[i][j] = a[i][j] - b[i][j];
    return out;
  }
}
