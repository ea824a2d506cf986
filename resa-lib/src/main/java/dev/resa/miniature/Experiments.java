package dev.resa.miniature;

import ai.djl.ndarray.NDManager;
import dev.resa.core.Djl;
import dev.resa.miniature.Miniature.Model;
import dev.resa.model.HfCheckpoint;
import dev.resa.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import tech.tablesaw.api.Table;

/**
 * The paper's side experiments in miniature, each on a run that {@link Miniature#run} has finished and cached under
 * {@code <run>/experiments/}: one SAE-Tuning variant ({@link #experiment}), Table 4's source sweep, Table 5's
 * modularity, Table 6's layer sweep, Figure 3's reasoning features per layer, and the update geometry (beyond the
 * paper). Each returns a table with 95 % paired-bootstrap intervals over the run's test problems where it scores.
 */
public final class Experiments {
  private Experiments() {}

  /**
   * Runs (or loads) {@code e}: one row with the held-out FVU of its SAE, the starting and final KL of Stage II and
   * Pass@1 / greedy / think rate (missing where {@code tuneSteps} is 0).
   */
  public static Table experiment(Preset p, Path outRoot, long seed, Experiment e) throws IOException {
    Djl.init();
    Stages.threads();
    Path dir = Miniature.runDir(outRoot, p, seed);
    for (Model m : Model.values()) {
      if (!Files.isRegularFile(dir.resolve(m.dir()).resolve("stage.json"))) throw new IllegalStateException(dir.resolve(m.dir()) + " is not trained: call Miniature.run first");
    }
    try (NDManager root = Djl.newManager(Djl.defaultDevice())) {
      return e.run(p, dir, seed, root);
    }
  }

  /**
   * Table 4's source sweep on a run that {@link Miniature#run} has finished: for each source step (GRPO rounds; 0 is base,
   * {@code rlSteps} the finished source, the others the source stage's kept checkpoints, see
   * {@link SourceSweep#availableSteps}), an SAE from scratch on that source, SAE-Tuning of base with it and held-out
   * scores. Cached under {@code <run>/experiments/source-step-<k>/}. See {@link SourceSweep#table} for the columns.
   */
  public static Table sourceSweep(Preset p, Path outRoot, long seed, int... steps) throws IOException {
    return SourceSweep.table(SourceSweep.run(p, outRoot, seed, steps));
  }

  /**
   * Table 5's modularity the paper's way ({@link Modularity}) on a finished run: a second base pretrained with seed
   * {@code seed + 1}, SAE-tuned with the run's SAE, its adapter attached to base; one row per {@link Modularity.Arm}
   * with Pass@1 and the adapter's gain, each with a 95 % paired-bootstrap interval. Cached under
   * {@code <run>/experiments/modularity-s<seed + 1>/}.
   */
  public static Table modularity(Preset p, Path outRoot, long seed) throws IOException {
    return modularity(p, outRoot, seed, seed + 1);
  }

  /** As {@link #modularity(Preset, Path, long)} with the target pretrained with {@code targetSeed} (not {@code seed}). */
  public static Table modularity(Preset p, Path outRoot, long seed, long targetSeed) throws IOException {
    return onFinishedRun(p, outRoot, seed, (run, dir, root) -> Modularity.run(run, dir, seed, targetSeed, root));
  }

  /**
   * Beyond the paper ({@link DoseResponse}): SAE width and k against the disturbance they cause and what SAE-Tuning
   * recovers, on a finished run. One row per width (at {@code p}'s k), then per k (at {@code p}'s width), with held-out
   * FVU, KL at Stage II's start and end, test Pass@1 and the recovered share of the run's RL gain, each with its 95 %
   * paired-bootstrap interval. The stages use {@code p}'s settings (not those a search picked for the run), so they are
   * {@link Search}'s width and k candidates where the two coincide and are trained once ({@code <run>/search/}).
   */
  public static Table doseResponse(Preset p, Path outRoot, long seed, List<Integer> widths, List<Integer> ks) throws IOException {
    return onFinishedRun(p, outRoot, seed, (run, dir, root) -> DoseResponse.run(p, dir, seed, widths, ks, root));
  }

  /** An experiment on a finished run: its own preset (after any {@link TuneSweep}), its folder and a manager. */
  private interface OnRun {
    Table apply(Preset runPreset, Path dir, NDManager root) throws IOException;
  }

  /** Checks that {@link Miniature#run} has finished the run of {@code p} and {@code seed}, then runs {@code f} on it. */
  private static Table onFinishedRun(Preset p, Path outRoot, long seed, OnRun f) throws IOException {
    Djl.init();
    Stages.threads();
    Path dir = Miniature.runDir(outRoot, p, seed);
    if (!Files.isRegularFile(dir.resolve("report.md"))) throw new IllegalStateException(dir + " has no report: call Miniature.run first");
    try (NDManager root = Djl.newManager(Djl.defaultDevice())) {
      return f.apply(Preset.ofRun(dir), dir, root);
    }
  }

  /**
   * Table 6 in miniature ({@link LayerSweep}): SAE-Tuning at every layer of a finished run (experiments {@code layer-N}),
   * one row per layer with Pass@1 and its gain over base, each with a 95 % paired-bootstrap interval over the test
   * problems; the last layer's row has only its SAE's FVU. Stages use the run's own preset ({@code preset.json}, so
   * after a Stage-II sweep the hook layer's row still repeats the run's {@code resa}); {@code p} only names the run.
   */
  public static Table layerSweep(Preset p, Path outRoot, long seed) throws IOException {
    return onFinishedRun(p, outRoot, seed, (run, dir, root) -> LayerSweep.run(run, dir, seed, root));
  }

  /**
   * Figure 3 in miniature for base and source side by side ({@link LayerFeatures}): per layer, the reasoning features
   * and tag-only latents of each model under its own SAE at that layer, counted over {@code texts} trigger texts and
   * kept when a latent passes on at least {@code majority} of them. Trains the SAEs it lacks (base's under
   * {@code experiments/base-layer-N/}, source's are the layer sweep's).
   */
  public static Table reasoningFeatures(Preset p, Path outRoot, long seed, int texts, double majority) throws IOException {
    return onFinishedRun(p, outRoot, seed, (run, dir, root) -> LayerFeatures.run(run, dir, seed, texts, majority, root));
  }

  /**
   * Beyond the paper ({@link AdapterGeometry}): per projection and layer of the run's Stage-II adapter, the cosine and
   * the principal-angle subspace overlap between its update and the RL source's, beside the same numbers for the
   * random-distortion control's update and for a random update of the same rank. Reads the run's PEFT adapters.
   */
  public static Table updateGeometry(Preset p, Path outRoot, long seed) throws IOException {
    return onFinishedRun(p, outRoot, seed,
        (run, dir, root) -> AdapterGeometry.run(dir, ModelConfig.readHf(dir.resolve(Model.BASE.dir()).resolve(HfCheckpoint.CONFIG)), root));
  }

  /**
   * Table 5's modularity ({@link Modularity}) with the target {@code target}: {@link Modularity.Target.Independent} as
   * {@link #modularity(Preset, Path, long, long)}, or {@link Modularity.Target.Continued}, base pretrained further on
   * another mix (an ancestor shared with base, as in the paper). Cached under {@code <run>/experiments/<target.dirName()>/}.
   */
  public static Table modularity(Preset p, Path outRoot, long seed, Modularity.Target target) throws IOException {
    return onFinishedRun(p, outRoot, seed, (run, dir, root) -> Modularity.run(run, dir, seed, target, root));
  }
}
