package dev.resa.miniature;

import dev.resa.viz.Plots;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tech.tablesaw.api.Table;

/** Standalone offline HTML plots of a run under {@code plots/}: losses, FVU/L0, accuracies, feature activations. */
final class RunPlots {
  private RunPlots() {}

  static void write(Path dir, Table scores, Table saes) throws IOException {
    Path out = dir.resolve("plots");
    RunResult r = new RunResult(dir, scores, null, saes, "");
    Plots.saveHtml(Plots.loss(r.log("base"), "loss"), out.resolve("base_loss.html"));
    Table grpo = r.log("source");
    // the accuracy term on its own scale (0..1) when the log has it; "reward" is the weighted sum (2 accuracy + 1 format)
    String accuracy = grpo.columnNames().contains("accuracy") ? "accuracy" : "reward";
    Plots.saveHtml(Plots.curves("source: CoT-free GRPO", grpo, Plots.STEP, accuracy, "think_rate", "kl"), out.resolve("source_grpo.html"));
    for (Miniature.SaeMode mode : Miniature.SaeMode.values()) {
      Table log = r.log(mode.dir());
      String name = mode.name().toLowerCase(java.util.Locale.ROOT);
      Plots.saveHtml(Plots.fvu(log), out.resolve("sae_" + name + "_fvu.html"));
      Plots.saveHtml(Plots.l0(log), out.resolve("sae_" + name + "_l0.html"));
      Plots.saveHtml(Plots.featureDensity(r.density(mode)), out.resolve("sae_" + name + "_density.html"));
    }
    for (Miniature.Route t : Miniature.ROUTES) {
      if (t.kind() == Miniature.Kind.SAE_TUNING || t.kind() == Miniature.Kind.CONTROL) {
        Plots.saveHtml(Plots.loss(r.log(t.dir()), "kl_token"), out.resolve("tune_" + t.name() + "_kl.html"));
      }
    }
    Plots.saveHtml(Plots.loss(r.log("tuned/sft-cotfree"), "loss"), out.resolve("sft_cotfree_loss.html"));
    Plots.saveHtml(Plots.loss(r.log("tuned/sft-cot"), "loss"), out.resolve("sft_cot_loss.html"));
    var example = new dev.resa.task.ArithmeticTask(r.preset().task()).problems(dev.resa.task.ArithmeticTask.Split.TRAIN, 1, 99).get(0);
    RunResult.FeatureActivations fa = r.featureActivations(Miniature.SaeMode.SCRATCH, Miniature.Model.SOURCE,
        dev.resa.task.ArithmeticTask.prompt(example), dev.resa.task.ArithmeticTask.cotFreeCompletion(example));
    Plots.saveHtml(Plots.tokenActivations(fa.tokens(), fa.acts(), 12), out.resolve("feature_activations.html"));
    Plots.saveHtml(Plots.groupedBars("held-out accuracy", scores, "model", "pass1", "greedy", "think"), out.resolve("accuracy.html"));
  }
}
