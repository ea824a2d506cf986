package dev.resa.miniature;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.resa.model.ModelConfig;
import dev.resa.tuning.Lora;
import dev.resa.tuning.LoraConfig;
import dev.resa.tuning.UpdateGeometry;
import java.io.IOException;
import java.nio.file.Path;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Beyond the paper: does Stage II move base's weights along the RL update? For every projection and layer that the
 * Stage-II adapter of the run's {@code resa} covers, {@link UpdateGeometry} compares its update {@code ΔW = (α/r) B A}
 * with the RL source's LoRA update at the same matrix: the cosine between the flattened updates and the mean cosine of
 * the principal angles between their top-r output subspaces. Two chance levels sit beside it: the random-distortion
 * control's Stage-II update (tuned the same way, without an SAE) and random Gaussian updates of the same rank (the mean over {@link #RANDOM_DRAWS} draws).
 * Undefined values (an update that is exactly zero, e.g. GRPO without reward variance) are missing. Read straight
 * from the run's PEFT adapter folders ({@code source/adapter}, {@code tuned/<route>/adapter}).
 */
final class AdapterGeometry {
  private AdapterGeometry() {}

  /** Random same-rank updates averaged for the chance level of each matrix. */
  static final int RANDOM_DRAWS = 16;

  /** The updates compared with RL's, in column order: SAE-Tuning, the control, a random same-rank update. */
  enum Update {
    RESA("resa"), CONTROL("control"), RANDOM("random");

    final String column;

    Update(String column) {
      this.column = column;
    }
  }

  /**
   * One row per adapted matrix of {@code resa}: module, layer, projection, and for each {@link Update} its cosine with
   * RL's update ({@code cosine_<update>}) and its subspace overlap ({@code overlap_<update>}, mean principal cosine).
   */
  static Table run(Path runDir, ModelConfig model, NDManager root) throws IOException {
    try (NDManager m = root.newSubManager();
         Lora rl = Lora.load(runDir.resolve("source/adapter"), model, m);
         Lora resa = Lora.load(runDir.resolve(Miniature.route("resa").dir()).resolve("adapter"), model, m);
         Lora control = Lora.load(runDir.resolve(Miniature.route("control-random").dir()).resolve("adapter"), model, m)) {
      StringColumn module = StringColumn.create("module"), projection = StringColumn.create("projection");
      IntColumn layer = IntColumn.create("layer");
      Table t = Table.create("Stage-II update vs RL update per matrix: cosine and subspace overlap, against the control and a random same-rank update",
          module, layer, projection);
      for (Update u : Update.values()) t.addColumns(DoubleColumn.create("cosine_" + u.column), DoubleColumn.create("overlap_" + u.column));
      int rank = resa.config().r();
      long seed = 0;
      for (int l = 0; l < model.numLayers(); l++) {
        for (String target : LoraConfig.ALL_TARGETS) {
          String name = LoraConfig.modulePath(l, target);
          if (!resa.modules().containsKey(name)) continue; // Stage II adapts the layers after the splice only
          if (!rl.modules().containsKey(name)) throw new IllegalStateException("the RL adapter lacks " + name);
          double[][] dRl = delta(rl, name);
          module.append(name);
          layer.append(l);
          projection.append(target);
          append(t, Update.RESA, UpdateGeometry.compare(name, delta(resa, name), dRl, rank));
          append(t, Update.CONTROL, UpdateGeometry.compare(name, delta(control, name), dRl, rank));
          double cos = 0, overlap = 0, rlNorm = 0; // chance level: the mean over RANDOM_DRAWS random updates of the same rank
          for (int d = 0; d < RANDOM_DRAWS; d++) {
            UpdateGeometry.Comparison c = UpdateGeometry.compare(name, UpdateGeometry.randomUpdate(dRl.length, dRl[0].length, rank, seed++), dRl, rank);
            cos += c.cosine() / RANDOM_DRAWS;
            overlap += c.subspaceOverlap() / RANDOM_DRAWS;
            rlNorm = c.normB();
          }
          t.doubleColumn("cosine_random").append(rlNorm == 0 ? Double.NaN : cos);
          t.doubleColumn("overlap_random").append(rlNorm == 0 ? Double.NaN : overlap);
        }
      }
      return t;
    }
  }

  /** Appends one comparison's cosine and overlap; a zero update has no direction or subspace, so both are missing. */
  private static void append(Table t, Update u, UpdateGeometry.Comparison c) {
    boolean zero = c.normA() == 0 || c.normB() == 0;
    t.doubleColumn("cosine_" + u.column).append(zero ? Double.NaN : c.cosine());
    t.doubleColumn("overlap_" + u.column).append(zero ? Double.NaN : c.subspaceOverlap());
  }

  /** {@code (α/r) B A} of one module as a [out, in] matrix. */
  static double[][] delta(Lora lora, String module) {
    Lora.Pair p = lora.modules().get(module);
    try (NDManager s = lora.manager().newSubManager()) {
      NDArray d = p.b().matMul(p.a()).mul(lora.config().scale()); // [out, in]
      d.attach(s);
      int rows = (int) d.getShape().get(0), cols = (int) d.getShape().get(1);
      float[] flat = d.toFloatArray();
      double[][] out = new double[rows][cols];
      for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) out[i][j] = flat[i * cols + j];
      return out;
    }
  }
}
