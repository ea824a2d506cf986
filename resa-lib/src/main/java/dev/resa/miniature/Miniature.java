package dev.resa.miniature;

import ai.djl.ndarray.NDManager;
import dev.resa.core.Djl;
import dev.resa.io.AtomicFiles;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.task.ArithmeticTask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import tech.tablesaw.api.Table;

/**
 * Resa's whole story at toy scale, composed from the library's stage functions and cached stage by stage under
 * {@code runs/<preset>-s<seed>/}:
 *
 * <ol>
 *   <li><b>base</b> (R1-Distill's role): a tiny Qwen2 pretrained ({@code LmTrainer}) on traced and answer-only arithmetic;
 *   <li><b>source</b> (Tina's role): base + CoT-free {@code Grpo} with LoRA, merged;
 *   <li><b>Stage I</b>: {@code SaeTrainer} (SignSGD + Schedule-Free) on {@code ActivationCache}s of the residual stream
 *       after the hook layer, in the paper's modes ({@link SaeMode});
 *   <li><b>Stage II</b>: {@code SaeTuning} of base with each SAE, plus a random-distortion control matched on starting KL;
 *   <li>the CoT-free and CoT {@code Sft} baselines; {@code Evaluator} on held-out problems; costs; {@code report.md}.
 * </ol>
 *
 * Every stage folder is keyed by a hash of its settings and its inputs' keys ({@link RunCache}): a changed knob
 * retrains that stage and what depends on it. Models are HF folders, SAEs sparsify folders, adapters PEFT folders,
 * so {@code ./resa eval --model runs/default-s0/tuned/resa} works on them.
 */
public final class Miniature {
  /** Table 4's SAE training modes. */
  public enum SaeMode {
    /** From scratch on source's activations over the CoT-free trigger texts (Resa's default). */
    SCRATCH(Model.SOURCE, "trigger (CoT-free)"),
    /** Source's trigger activations, starting from the pre-trained SAE. */
    FINETUNED(Model.SOURCE, "trigger, from pretrained"),
    /** Base's activations over its own pretraining mix, used as is. */
    PRETRAINED(Model.BASE, "pretraining mix"),
    /** Base as its own source (Tina-0-step). */
    SELF(Model.BASE, "trigger (CoT-free)");

    public final Model model;
    public final String data;

    SaeMode(Model model, String data) {
      this.model = model;
      this.data = data;
    }

    public String dir() {
      return "sae/" + name().toLowerCase(Locale.ROOT);
    }
  }

  /** The two trained starting points. */
  public enum Model {
    BASE, SOURCE;

    public String dir() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** How an evaluated model was made. */
  public enum Kind { PRETRAINING, RL, SAE_TUNING, CONTROL, SFT_COTFREE, SFT_COT }

  /** One evaluated model: its folder name, route, paper role and (for SAE-Tuning) the SAE it was tuned with. */
  public record Route(String name, Kind kind, String role, SaeMode sae) {
    public String dir() {
      return kind == Kind.PRETRAINING || kind == Kind.RL ? name : "tuned/" + name;
    }
  }

  /** Every evaluated model, in report order. */
  public static final List<Route> ROUTES = List.of(
      new Route("base", Kind.PRETRAINING, "base (R1-Distill's role)", null),
      new Route("source", Kind.RL, "source: base + CoT-free GRPO (Tina's role)", null),
      new Route("resa", Kind.SAE_TUNING, "Resa: SAE from scratch on source (Resa-STILL-v3)", SaeMode.SCRATCH),
      new Route("resa-finetuned", Kind.SAE_TUNING, "Resa, fine-tuned SAE (Resa-STILL-v1)", SaeMode.FINETUNED),
      new Route("resa-pretrained", Kind.SAE_TUNING, "Resa, pre-trained SAE on base (Resa-STILL-v2)", SaeMode.PRETRAINED),
      new Route("resa-self", Kind.SAE_TUNING, "Resa, base as its own source (Tina-0-step, v5)", SaeMode.SELF),
      new Route("control-random", Kind.CONTROL, "control: random distortion matched on starting KL", SaeMode.SCRATCH),
      new Route("sft-cotfree", Kind.SFT_COTFREE, "CoT-free SFT of base", null),
      new Route("sft-cot", Kind.SFT_COT, "CoT SFT of base (correct traces)", null));

  private Miniature() {}

  /** The route called {@code name} in {@link #ROUTES}. */
  public static Route route(String name) {
    for (Route r : ROUTES) if (r.name().equals(name)) return r;
    throw new IllegalArgumentException("no route '" + name + "'; routes: " + ROUTES.stream().map(Route::name).toList());
  }

  /** The run directory of a preset and seed under {@code outRoot}. */
  public static Path runDir(Path outRoot, Preset preset, long seed) {
    return outRoot.resolve(preset.name() + "-s" + seed);
  }

  /** Runs (or loads) every stage and writes the report; returns the run's tables. */
  public static Result run(Preset p, Path outRoot, boolean fresh, long seed) throws IOException {
    return run(p, outRoot, fresh, seed, null);
  }

  /**
   * As {@link #run(Preset, Path, boolean, long)}, but with {@code sweep} non-null Stage II's learning rate and step
   * count (and the SFT baselines', which match them) are first chosen on validation problems ({@link TuneSweep});
   * the report names the pick. The run directory is the same, so a run with and one without a sweep retrain Stage II.
   */
  public static Result run(Preset p, Path outRoot, boolean fresh, long seed, TuneSweep.Grid sweep) throws IOException {
    Djl.init();
    Stages.threads();
    Path dir = runDir(outRoot, p, seed);
    if (fresh && Files.exists(dir)) RunCache.deleteTree(dir);
    Files.createDirectories(dir);
    AtomicFiles.writeString(dir.resolve("preset.json"), RunCache.GSON.toJson(p));
    long t0 = System.nanoTime();
    try (NDManager root = Djl.newManager(Djl.defaultDevice())) {
      Stages first = new Stages(p, dir, seed, root);
      String base = first.base();
      String source = first.source(base);
      String pretrained = first.sae(SaeMode.PRETRAINED, base, null);
      String scratch = first.sae(SaeMode.SCRATCH, source, null);
      first.sae(SaeMode.FINETUNED, source, pretrained);
      first.sae(SaeMode.SELF, base, null);
      TuneSweep.Pick pick = null;
      Preset used = p;
      if (sweep != null) {
        pick = TuneSweep.run(first, p, dir, seed, sweep, base, scratch);
        used = pick.apply(p);
        AtomicFiles.writeString(dir.resolve("preset.json"), RunCache.GSON.toJson(used));
        System.out.println("== " + pick.describe());
      } else {
        TuneSweep.clear(dir);
      }
      Stages s = sweep == null ? first : new Stages(used, dir, seed, root);
      for (Route r : ROUTES) {
        switch (r.kind()) {
          case SAE_TUNING, CONTROL -> s.tune(r, base, RunCache.keyOf(dir.resolve(r.sae().dir())));
          case SFT_COTFREE, SFT_COT -> s.sft(r, base);
          default -> { }
        }
      }
      for (Route r : ROUTES) s.evaluate(r);
      Report.write(dir, used, seed, s.testSize(), pick);
    }
    System.out.printf(Locale.ROOT, "miniature: %s done in %.1f s; report at %s%n", dir.getFileName(), (System.nanoTime() - t0) / 1e9,
        dir.resolve("report.md"));
    return Result.load(dir);
  }

  /**
   * Runs (or loads) one full run per seed ({@link #run}, each under its own {@code <preset>-s<seed>/}) and writes their
   * pooled report under {@code <preset>-seeds<first>-<last>/}: per model mean Pass@1, the verdict's differences and the
   * recovered share of the RL gain, each with a 95 % paired-bootstrap interval per seed and pooled.
   *
   * @param seeds training seeds, at least one, no repeats.
   */
  public static SeedsResult runSeeds(Preset p, Path outRoot, boolean fresh, List<Long> seeds) throws IOException {
    return runSeeds(p, outRoot, fresh, seeds, null);
  }

  /** As {@link #runSeeds(Preset, Path, boolean, List)}, each seed choosing its own Stage-II lr and steps by {@code sweep} (null: none). */
  public static SeedsResult runSeeds(Preset p, Path outRoot, boolean fresh, List<Long> seeds, TuneSweep.Grid sweep) throws IOException {
    if (seeds.isEmpty() || seeds.stream().distinct().count() != seeds.size()) throw new IllegalArgumentException("need distinct seeds, got " + seeds);
    long t0 = System.nanoTime();
    List<Result> runs = new java.util.ArrayList<>();
    for (long s : seeds) runs.add(run(p, outRoot, fresh, s, sweep));
    Path dir = SeedPool.dir(outRoot, p, seeds);
    Intervals iv = SeedPool.write(dir, p, seeds, runs.stream().map(Result::dir).toList());
    System.out.printf(Locale.ROOT, "miniature: %d seeds done in %.1f s; pooled report at %s%n", seeds.size(), (System.nanoTime() - t0) / 1e9,
        dir.resolve("report.md"));
    return new SeedsResult(dir, runs, iv, Files.readString(dir.resolve("report.md")));
  }

  /** Seeds {@code first .. first + n - 1}; see {@link #runSeeds(Preset, Path, boolean, List)}. */
  public static SeedsResult runSeeds(Preset p, Path outRoot, boolean fresh, long first, int n) throws IOException {
    return runSeeds(p, outRoot, fresh, first, n, null);
  }

  /** Seeds {@code first .. first + n - 1} with an optional Stage-II sweep per seed. */
  public static SeedsResult runSeeds(Preset p, Path outRoot, boolean fresh, long first, int n, TuneSweep.Grid sweep) throws IOException {
    if (n <= 0) throw new IllegalArgumentException("need at least one seed, got " + n);
    List<Long> seeds = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) seeds.add(first + i);
    return runSeeds(p, outRoot, fresh, seeds, sweep);
  }

  /**
   * Several seeds and their pooled statistics.
   *
   * @param dir the pooled folder ({@code report.md}, {@code intervals.csv}, {@code problems.csv}).
   * @param runs each seed's run, in seed order.
   * @param intervals every interval, typed; {@link Intervals#table()} is the same as a table.
   * @param report the pooled {@code report.md}.
   */
  public record SeedsResult(Path dir, List<Result> runs, Intervals intervals, String report) {
    /** The pooled table: statistic, name, seed (or {@code pooled}), estimate, lo, hi, undefined replicates. */
    public Table pooled() {
      return intervals.table();
    }
  }

  /**
   * One SAE-Tuning run beside the main table (Table 5's generality, Table 6's layer sweep), on a run that
   * {@link #run} has finished: Stage I from scratch on {@code saeModel}'s residual stream after {@code layer} over
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
  }

  /**
   * Runs (or loads) {@code e}: one row with the held-out FVU of its SAE, the starting and final KL of Stage II and
   * Pass@1 / greedy / think rate (missing where {@code tuneSteps} is 0).
   */
  public static Table experiment(Preset p, Path outRoot, long seed, Experiment e) throws IOException {
    Djl.init();
    Stages.threads();
    Path dir = runDir(outRoot, p, seed);
    for (Model m : Model.values()) {
      if (!Files.isRegularFile(dir.resolve(m.dir()).resolve("stage.json"))) throw new IllegalStateException(dir.resolve(m.dir()) + " is not trained: call Miniature.run first");
    }
    try (NDManager root = Djl.newManager(Djl.defaultDevice())) {
      return new Stages(p, dir, seed, root).experiment(e);
    }
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
    Djl.init();
    Stages.threads();
    Path dir = finishedRun(p, outRoot, seed);
    try (NDManager root = Djl.newManager(Djl.defaultDevice())) {
      return Modularity.run(runPreset(dir), dir, seed, targetSeed, root);
    }
  }

  /** The preset a finished run was made with ({@code preset.json}: Stage II's lr and steps after any {@link TuneSweep}). */
  private static Preset runPreset(Path dir) throws IOException {
    return RunCache.GSON.fromJson(Files.readString(dir.resolve("preset.json")), Preset.class);
  }

  /** The run directory, after checking that {@link #run} has finished it. */
  private static Path finishedRun(Preset p, Path outRoot, long seed) {
    Path dir = runDir(outRoot, p, seed);
    if (!Files.isRegularFile(dir.resolve("report.md"))) throw new IllegalStateException(dir + " has no report: call Miniature.run first");
    return dir;
  }

  /**
   * Table 6 in miniature ({@link LayerSweep}): SAE-Tuning at every layer of a finished run (experiments {@code layer-N}),
   * one row per layer with Pass@1 and its gain over base, each with a 95 % paired-bootstrap interval over the test
   * problems; the last layer's row has only its SAE's FVU. Stages use the run's own preset ({@code preset.json}, so
   * after a Stage-II sweep the hook layer's row still repeats the run's {@code resa}); {@code p} only names the run.
   */
  public static Table layerSweep(Preset p, Path outRoot, long seed) throws IOException {
    Djl.init();
    Stages.threads();
    Path dir = finishedRun(p, outRoot, seed);
    try (NDManager root = Djl.newManager(Djl.defaultDevice())) {
      return LayerSweep.run(runPreset(dir), dir, seed, root);
    }
  }

  /**
   * Figure 3 in miniature for base and source side by side ({@link LayerFeatures}): per layer, the reasoning features
   * and tag-only latents of each model under its own SAE at that layer, counted over {@code texts} trigger texts and
   * kept when a latent passes on at least {@code majority} of them. Trains the SAEs it lacks (base's under
   * {@code experiments/base-layer-N/}, source's are the layer sweep's).
   */
  public static Table reasoningFeatures(Preset p, Path outRoot, long seed, int texts, double majority) throws IOException {
    Djl.init();
    Stages.threads();
    Path dir = finishedRun(p, outRoot, seed);
    try (NDManager root = Djl.newManager(Djl.defaultDevice())) {
      return LayerFeatures.run(runPreset(dir), dir, seed, texts, majority, root);
    }
  }

  /**
   * Beyond the paper ({@link AdapterGeometry}): per projection and layer of the run's Stage-II adapter, the cosine and
   * the principal-angle subspace overlap between its update and the RL source's, beside the same numbers for the
   * random-distortion control's update and for a random update of the same rank. Reads the run's PEFT adapters.
   */
  public static Table updateGeometry(Preset p, Path outRoot, long seed) throws IOException {
    Djl.init();
    Path dir = finishedRun(p, outRoot, seed);
    try (NDManager root = Djl.newManager(Djl.defaultDevice())) {
      return AdapterGeometry.run(dir, dev.resa.model.ModelConfig.readHf(dir.resolve("base").resolve(HfCheckpoint.CONFIG)), root);
    }
  }

  /** Saves a model as a HF folder ({@code config.json} + {@code model.safetensors}). */
  public static void saveModel(DecoderLM model, Path d) throws IOException {
    HfCheckpoint.save(model, d);
  }

  /** Loads a model folder into its own manager under {@code parent}. */
  public static DecoderLM loadModel(Path d, NDManager parent) throws IOException {
    return HfCheckpoint.load(d, parent);
  }

  /** Scores any model of this task on the preset's held-out problems: a one-row table (model, pass1, greedy, think). */
  public static Table evaluateModel(DecoderLM model, Preset p, String name) {
    return Scoring.score(model, p, name).score().asTable(name);
  }

  /** A finished run's tables, read back from its directory (what notebooks use). */
  public record Result(Path dir, Table scores, Table costs, Table saes, String report) {
    public static Result load(Path dir) throws IOException {
      return new Result(dir, Table.read().csv(dir.resolve("scores.csv").toString()), Table.read().csv(dir.resolve("costs.csv").toString()),
          Table.read().csv(dir.resolve("saes.csv").toString()), Files.readString(dir.resolve("report.md")));
    }

    /** The step log of a stage: {@code base}, {@code source}, {@code sae/scratch}, {@code tuned/resa}, ... */
    public Table log(String stage) throws IOException {
      return Table.read().csv(dir.resolve(stage).resolve("train.csv").toString()).setName(stage);
    }

    /** The preset the run was made with. */
    public Preset preset() throws IOException {
      return RunCache.GSON.fromJson(Files.readString(dir.resolve("preset.json")), Preset.class);
    }

    /** One text's tokens and the SAE latent activations on them ({@code acts[token][latent]}). */
    public record FeatureActivations(List<String> tokens, float[][] acts) {}

    /** Latent activations of the Stage-I SAE {@code mode} on {@code model}'s residual stream at the hook layer. */
    public FeatureActivations featureActivations(SaeMode mode, Model model, String prompt, String completion) throws IOException {
      return Features.activations(dir, preset().hookLayer(), mode, model, prompt, completion);
    }

    /** Per-latent firing frequency of a Stage-I SAE on its training activations. */
    public double[] density(SaeMode mode) throws IOException {
      return RunCache.GSON.fromJson(Files.readString(dir.resolve(mode.dir()).resolve("density.json")), double[].class);
    }
  }
}
