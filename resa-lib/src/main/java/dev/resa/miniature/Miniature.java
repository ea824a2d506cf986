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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.LongStream;
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
  public static RunResult run(Preset p, Path outRoot, boolean fresh, long seed) throws IOException {
    return run(p, outRoot, fresh, seed, (TuneSweep.Grid) null);
  }

  /**
   * As {@link #run(Preset, Path, boolean, long)}, but with {@code sweep} non-null Stage II's learning rate and step
   * count (and the SFT baselines', which match them) are first chosen on validation problems ({@link TuneSweep});
   * the report names the pick. The run directory is the same, so a run with and one without a sweep retrain Stage II.
   */
  public static RunResult run(Preset p, Path outRoot, boolean fresh, long seed, TuneSweep.Grid sweep) throws IOException {
    return run(p, outRoot, fresh, seed, sweep, null);
  }

  /**
   * As {@link #run(Preset, Path, boolean, long)}, but first a validation search ({@link Search}) picks the SAE's width,
   * k, hook layer and source step, then Stage II's lr and steps; every route is then trained and scored with the pick
   * (its {@code preset.json}), and the report names the pick. The test problems are read only by the final scoring.
   */
  public static RunResult run(Preset p, Path outRoot, boolean fresh, long seed, Search.Space search) throws IOException {
    return run(p, outRoot, fresh, seed, null, search);
  }

  private static RunResult run(Preset p, Path outRoot, boolean fresh, long seed, TuneSweep.Grid sweep, Search.Space search) throws IOException {
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
      first.source(base);
      Search.Pick found = search == null ? null : Search.run(p, dir, seed, search, base, root);
      Preset used = found == null ? p : found.apply(p);
      Stages s = found == null ? first : new Stages(used, dir, seed, root);
      String pretrained = s.sae(SaeMode.PRETRAINED, null);
      String scratch = s.sae(SaeMode.SCRATCH, null);
      s.sae(SaeMode.FINETUNED, pretrained);
      s.sae(SaeMode.SELF, null);
      TuneSweep.Pick pick = found == null ? null : found.tune();
      if (sweep != null) {
        pick = TuneSweep.run(s, p, dir, seed, sweep, base, dir.resolve(SaeMode.SCRATCH.dir()), scratch);
        used = pick.apply(p);
        s = new Stages(used, dir, seed, root);
      }
      if (pick == null) TuneSweep.clear(dir);
      if (found == null) Search.clear(dir);
      AtomicFiles.writeString(dir.resolve("preset.json"), RunCache.GSON.toJson(used));
      if (found != null) System.out.println("== " + found.describe());
      else if (pick != null) System.out.println("== " + pick.describe());
      for (Route r : ROUTES) {
        switch (r.kind()) {
          case SAE_TUNING, CONTROL -> s.tune(r, base, RunCache.keyOf(dir.resolve(r.sae().dir())));
          case SFT_COTFREE, SFT_COT -> s.sft(r, base);
          default -> { }
        }
      }
      for (Route r : ROUTES) s.evaluate(r);
      Report.write(dir, used, seed, s.testSize(), pick, found);
    }
    System.out.printf(Locale.ROOT, "miniature: %s done in %.1f s; report at %s%n", dir.getFileName(), (System.nanoTime() - t0) / 1e9,
        dir.resolve("report.md"));
    return RunResult.load(dir);
  }

  /**
   * Runs (or loads) one full run per seed ({@link #run}, each under its own {@code <preset>-s<seed>/}) and writes their
   * pooled report under {@code <preset>-seeds<first>-<last>/}: per model mean Pass@1, the verdict's differences and the
   * recovered share of the RL gain, each with a 95 % paired-bootstrap interval per seed and pooled.
   *
   * @param seeds training seeds, at least one, no repeats.
   * @param sweep each seed first chooses its own Stage-II lr and steps on validation problems ({@link TuneSweep}); null: none.
   */
  public static SeedsResult runSeeds(Preset p, Path outRoot, boolean fresh, List<Long> seeds, TuneSweep.Grid sweep) throws IOException {
    return runSeeds(p, outRoot, seeds, seed -> run(p, outRoot, fresh, seed, sweep));
  }

  /** As {@link #runSeeds(Preset, Path, boolean, List, TuneSweep.Grid)}, each seed running its own validation {@link Search}. */
  public static SeedsResult runSeeds(Preset p, Path outRoot, boolean fresh, List<Long> seeds, Search.Space search) throws IOException {
    return runSeeds(p, outRoot, seeds, seed -> run(p, outRoot, fresh, seed, search));
  }

  private interface OneSeed {
    RunResult run(long seed) throws IOException;
  }

  private static SeedsResult runSeeds(Preset p, Path outRoot, List<Long> seeds, OneSeed one) throws IOException {
    if (seeds.isEmpty() || seeds.stream().distinct().count() != seeds.size()) throw new IllegalArgumentException("need distinct seeds, got " + seeds);
    long t0 = System.nanoTime();
    List<RunResult> runs = new ArrayList<>();
    for (long s : seeds) runs.add(one.run(s));
    Path dir = SeedPool.dir(outRoot, p, seeds);
    Intervals iv = SeedPool.write(dir, p, seeds, runs.stream().map(RunResult::dir).toList());
    System.out.printf(Locale.ROOT, "miniature: %d seeds done in %.1f s; pooled report at %s%n", seeds.size(), (System.nanoTime() - t0) / 1e9,
        dir.resolve("report.md"));
    return new SeedsResult(dir, runs, iv, Files.readString(dir.resolve("report.md")));
  }

  /** Seeds {@code first .. first + n - 1}, no sweep; see {@link #runSeeds(Preset, Path, boolean, List, TuneSweep.Grid)}. */
  public static SeedsResult runSeeds(Preset p, Path outRoot, boolean fresh, long first, int n) throws IOException {
    if (n <= 0) throw new IllegalArgumentException("need at least one seed, got " + n);
    return runSeeds(p, outRoot, fresh, LongStream.range(first, first + n).boxed().toList(), (TuneSweep.Grid) null);
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
}
