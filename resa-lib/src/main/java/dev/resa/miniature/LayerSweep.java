package dev.resa.miniature;

import ai.djl.ndarray.NDManager;
import dev.resa.eval.PairedBootstrap;
import dev.resa.eval.PairedBootstrap.Interval;
import dev.resa.miniature.Miniature.Model;
import java.io.IOException;
import java.nio.file.Path;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.Table;

/**
 * Table 6 in miniature: SAE-Tuning at every layer ({@link Experiments#experiment} {@code layer-N}: an SAE from scratch on
 * source at that layer, Stage II of base there, the held-out evaluation), with 95 % paired-bootstrap intervals from
 * the per-problem scores for each layer's Pass@1 and for its gain over base. The last layer has no layer after it to
 * adapt, so its row has the SAE's FVU and no scores (missing values).
 */
final class LayerSweep {
  private LayerSweep() {}

  /** The experiment behind layer {@code layer}'s row (also where its SAE on source lives, for the feature counts). */
  static Experiment experiment(Preset p, int layer) {
    return new Experiment("layer-" + layer, Model.SOURCE, layer, null, p.saeSteps(), layer < p.layers() - 1 ? p.tuneSteps() : 0);
  }

  /** One row per layer: the experiment's columns plus {@code pass1_lo/hi} and {@code gain} (minus base) with its interval. */
  static Table run(Preset p, Path runDir, long seed, NDManager root) throws IOException {
    double[][] base = {ProblemScores.read(Stages.problemsFile(runDir.resolve("eval/base"))).pass1()}; // [1 seed][problem]
    Table out = null;
    for (int layer = 0; layer < p.layers(); layer++) {
      Experiment e = experiment(p, layer);
      Table row = e.run(p, runDir, seed, root);
      Interval mean = missing(), gain = missing();
      if (e.tuneSteps() > 0) {
        double[][] tuned = {ProblemScores.read(Stages.problemsFile(e.dir(runDir).resolve("eval"))).pass1()};
        mean = PairedBootstrap.mean(tuned, Intervals.BOOTSTRAP);
        gain = PairedBootstrap.difference(tuned, base, Intervals.BOOTSTRAP);
      }
      row.addColumns(DoubleColumn.create("pass1_lo", mean.lo()), DoubleColumn.create("pass1_hi", mean.hi()),
          DoubleColumn.create("gain", gain.estimate()), DoubleColumn.create("gain_lo", gain.lo()), DoubleColumn.create("gain_hi", gain.hi()));
      out = out == null ? row : out.append(row);
    }
    return out.selectColumns("layer", "fvu_heldout", "start_kl", "final_kl", "pass1", "pass1_lo", "pass1_hi", "gain", "gain_lo", "gain_hi",
        "greedy", "think").setName("Table 6 in miniature: SAE-Tuning at each layer (Pass@1 and gain over base, 95 % paired bootstrap)");
  }

  private static Interval missing() {
    return new Interval(Double.NaN, Double.NaN, Double.NaN, Intervals.BOOTSTRAP.level());
  }
}
