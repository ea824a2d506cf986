package dev.resa.miniature;

import ai.djl.ndarray.NDManager;
import dev.resa.miniature.Miniature.Model;
import dev.resa.task.ArithmeticTask;
import dev.resa.task.ArithmeticTask.Split;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * One SAE-Tuning run beside the main table (Table 5's generality, Table 6's layer sweep), on a run that
 * {@link Miniature#run} has finished: Stage I from scratch on {@code saeModel}'s residual stream after {@code layer} over
 * CoT-free trigger texts of {@code trigger} (null: the run's own); Stage II of base at that layer; held-out
 * evaluation. Cached under {@code <run>/experiments/<name>/}, keyed like every stage.
 *
 * @param saeSteps Stage-I steps (the preset's to compare with the main table).
 * @param tuneSteps Stage-II steps; 0 trains the SAE only (the last layer has no layer after it to adapt).
 */
public record Experiment(String name, Model saeModel, int layer, ArithmeticTask.Config trigger, int saeSteps, int tuneSteps) {
  public Experiment {
    if (saeSteps <= 0 || tuneSteps < 0) throw new IllegalArgumentException("need saeSteps > 0 and tuneSteps >= 0");
  }

  public Path dir(Path runDir) {
    return runDir.resolve("experiments").resolve(name);
  }

  /**
   * Runs (or loads) this experiment on the finished run of preset {@code p} in {@code runDir}; see
   * {@link Experiments#experiment} for the row it returns.
   */
  Table run(Preset p, Path runDir, long seed, NDManager root) throws IOException {
    if (layer < 0 || layer >= p.layers()) throw new IllegalArgumentException("layer " + layer + " outside 0.." + (p.layers() - 1));
    if (tuneSteps > 0 && layer == p.layers() - 1) {
      throw new IllegalArgumentException("layer " + layer + " is the last: Stage II adapts the layers after the splice, and there are none");
    }
    Path ed = dir(runDir);
    Stages s = new Stages(p.toBuilder().hookLayer(layer).build(), runDir, seed, root);
    List<String[]> texts = trigger == null ? s.triggerTexts()
        : new ArithmeticTask(trigger).problems(Split.TRAIN, p.saeTexts(), seed).stream().map(Stages::cotFree).toList();
    String data = trigger == null ? "trigger" : "trigger-" + RunCache.key(trigger);
    Path saeFrom = runDir.resolve(saeModel.dir());
    String saeKey = s.sae(ed.resolve("sae"), saeFrom, RunCache.keyOf(saeFrom), data, texts, null, null, saeSteps);
    Map<String, Double> sae = RunCache.read(ed.resolve("sae"));
    double[] tuned = {Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN};
    if (tuneSteps > 0) {
      s.tune(ed.resolve("tuned"), name, RunCache.keyOf(runDir.resolve("base")), ed.resolve("sae"), saeKey, false, layer, tuneSteps);
      Map<String, Double> st = RunCache.read(ed.resolve("tuned"));
      Scoring.Score sc = s.evaluate(ed.resolve("tuned"), ed.resolve("eval"), name);
      tuned = new double[] {st.get("start_kl"), st.get("final_kl"), sc.pass1(), sc.greedy(), sc.thinkRate()};
    }
    Table t = Table.create(name, StringColumn.create("experiment", List.of(name)), IntColumn.create("layer", new int[] {layer}),
        DoubleColumn.create("fvu_heldout", sae.get("fvu_heldout_" + saeModel.dir())));
    String[] cols = {"start_kl", "final_kl", "pass1", "greedy", "think"};
    for (int i = 0; i < cols.length; i++) t.addColumns(DoubleColumn.create(cols[i], new double[] {tuned[i]}));
    return t;
  }
}
