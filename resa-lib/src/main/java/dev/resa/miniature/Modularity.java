package dev.resa.miniature;

import ai.djl.ndarray.NDManager;
import dev.resa.eval.PairedBootstrap;
import dev.resa.eval.PairedBootstrap.Interval;
import dev.resa.io.AtomicFiles;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.task.ArithmeticTask;
import dev.resa.tuning.Lora;
import dev.resa.tuning.MergedModel;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Table 5's "reasoning as an adapter", the paper's way round: SAE-Tuning runs on a <i>different</i> target, and its
 * LoRA adapter is attached to base at test time. The paper tunes Qwen2.5-Math-1.5B (and Qwen2.5-1.5B) with Tina-STILL's
 * SAE and attaches the adapter to R1-Distill (47.86 / 47.54 against 47.28 for the adapter tuned on R1-Distill itself).
 *
 * <p>The target is a {@link Target}: either a second base ({@link Target.Independent}: the run's base stage repeated
 * with another seed, other initial weights and another draw of the pretraining mix, same tokenizer and shape), which
 * shares no weights with base, so its residual-stream basis is unrelated and the experiment asks whether an adapter
 * carries anything that does not depend on a shared basis; or base itself pretrained further on another mix
 * ({@link Target.Continued}), which shares its pretrained ancestor with base as the paper's targets share Qwen2.5-Math
 * with R1-Distill (there the adapter goes from ancestor to descendant, here from descendant to ancestor). Stage II tunes
 * the target with the run's SAE from scratch on source (same layer, data, adapter seed and steps as the run's
 * {@code resa}), the adapter is loaded as a PEFT folder onto base (shapes checked by {@link Lora#attachTo}) and folded
 * in, and every arm is scored on the run's test problems.
 *
 * <p>Layout, under {@code <run>/experiments/<target.dirName()>/}: {@code target/base} (the target's weights),
 * {@code target/tuned} (its Stage II, with {@code adapter/}), {@code attached} (base + that adapter, merged),
 * {@code eval/<arm>} and {@code modularity.csv}. Every folder is keyed like the run's stages ({@link RunCache}).
 */
public final class Modularity {
  private Modularity() {}

  /** Where the target's weights come from. */
  public sealed interface Target {
    /** Its folder under {@code <run>/experiments/}. */
    String dirName();

    /** A second base from scratch: base's recipe with {@code seed} (not the run's), sharing no weights with base. */
    record Independent(long seed) implements Target {
      @Override
      public String dirName() {
        return "modularity-s" + seed;
      }
    }

    /**
     * Base's weights pretrained further by base's own loop ({@code Stages.continued}: same batch and optimiser, the lr peaking at base's final lr).
     *
     * @param stepShare continued steps as a share of the preset's {@code baseSteps}, rounded (default 0.25: enough to
     *     move the weights off base's, few enough that the target stays base's descendant rather than a new model).
     * @param traceShare share of the continuation's examples written with a trace (default 1.0: every example reasons,
     *     as R1-Distill is Qwen2.5-Math further trained on reasoning traces; base's own mix is the preset's {@code traceShare}).
     */
    record Continued(double stepShare, double traceShare) implements Target {
      public Continued {
        if (!(stepShare >= 0 && stepShare <= 1)) throw new IllegalArgumentException("stepShare must be in [0, 1], got " + stepShare);
        if (!(traceShare >= 0 && traceShare <= 1)) throw new IllegalArgumentException("traceShare must be in [0, 1], got " + traceShare);
      }

      /** The defaults: a quarter of base's steps more, on traced examples only. */
      public static Continued traced() {
        return new Continued(0.25, 1.0);
      }

      /** Continued steps for a preset: {@code stepShare * baseSteps}, rounded. */
      public int steps(Preset p) {
        return (int) Math.round(stepShare * p.baseSteps());
      }

      @Override
      public String dirName() {
        return "modularity-c" + stepShare + "-t" + traceShare;
      }
    }
  }

  /** The weights an arm starts from. */
  public enum Weights { BASE, TARGET }

  /** The five models the table compares, each on the same test problems. */
  public enum Arm {
    /** Base alone (the run's {@code base}). */
    BASE("base", Weights.BASE, null),
    /** Base + the adapter SAE-tuned on base itself (the run's {@code resa}). */
    BASE_OWN_ADAPTER("base + own adapter", Weights.BASE, Weights.BASE),
    /** Base + the adapter SAE-tuned on the target: Table 5's modularity row. */
    BASE_TARGET_ADAPTER("base + target's adapter", Weights.BASE, Weights.TARGET),
    /** The target alone. */
    TARGET("target", Weights.TARGET, null),
    /** The target + its own adapter (where the adapter was trained). */
    TARGET_OWN_ADAPTER("target + own adapter", Weights.TARGET, Weights.TARGET);

    public final String label;
    /** The weights the arm starts from, and those its adapter was SAE-tuned on (null: no adapter). */
    public final Weights weights, tunedOn;

    Arm(String label, Weights weights, Weights tunedOn) {
      this.label = label;
      this.weights = weights;
      this.tunedOn = tunedOn;
    }

    /** The adapter column: {@code none} or where it was tuned. */
    public String adapter() {
      return tunedOn == null ? "none" : "tuned on " + tunedOn.name().toLowerCase(Locale.ROOT);
    }

    /** The arm without its adapter (itself for base and target). */
    public Arm plain() {
      return weights == Weights.BASE ? BASE : TARGET;
    }
  }

  /** The experiment's folder in a run: {@code <run>/experiments/<target.dirName()>}. */
  public static Path dir(Path runDir, Target target) {
    return runDir.resolve("experiments").resolve(target.dirName());
  }

  /** As {@link #dir(Path, Target)} for an {@link Target.Independent} target of {@code targetSeed}. */
  public static Path dir(Path runDir, long targetSeed) {
    return dir(runDir, new Target.Independent(targetSeed));
  }

  /** The target's PEFT adapter folder (written by its Stage II). */
  public static Path targetAdapter(Path runDir, Target target) {
    return dir(runDir, target).resolve("target/tuned/adapter");
  }

  /** As {@link #targetAdapter(Path, Target)} for an {@link Target.Independent} target of {@code targetSeed}. */
  public static Path targetAdapter(Path runDir, long targetSeed) {
    return targetAdapter(runDir, new Target.Independent(targetSeed));
  }

  /** The run's own Stage-II adapter on base ({@code tuned/resa/adapter}). */
  public static Path ownAdapter(Path runDir) {
    return runDir.resolve(Miniature.route("resa").dir()).resolve("adapter");
  }

  /**
   * Trains (or reads back) the target, its Stage II and the attached model, scores the new arms and returns one row
   * per {@link Arm}: mean Pass@1 and the gain over the arm's plain weights, each with a 95 % paired-bootstrap interval
   * ({@link Intervals#BOOTSTRAP}), think rate, and Stage II's starting KL for the tuned arms.
   *
   * @param used the preset the run was made with (its {@code preset.json}: Stage II's lr and steps after any sweep).
   */
  static Table run(Preset used, Path runDir, long seed, long targetSeed, NDManager root) throws IOException {
    return run(used, runDir, seed, new Target.Independent(targetSeed), root);
  }

  /** As {@link #run(Preset, Path, long, long, NDManager)} for any {@link Target}. */
  static Table run(Preset used, Path runDir, long seed, Target kind, NDManager root) throws IOException {
    Path md = dir(runDir, kind), target = md.resolve("target");
    String targetKey;
    if (kind instanceof Target.Independent i) {
      if (i.seed() == seed) throw new IllegalArgumentException("the target needs another seed than base's (" + seed + ")");
      targetKey = new Stages(used, target, i.seed(), root).base(); // target/base: base's recipe, another seed
    } else {
      Target.Continued c = (Target.Continued) kind; // target/base: the run's base, pretrained further on c's mix
      targetKey = new Stages(used, runDir, seed, root).continued(target.resolve("base"), RunCache.keyOf(runDir.resolve("base")), c.steps(used), c.traceShare());
    }
    Path sae = runDir.resolve(Miniature.SaeMode.SCRATCH.dir());
    // Stage II of the target with the run's seed: the same data, adapter init and dropout as the run's resa; only the weights differ.
    new Stages(used, target, seed, root).tune(target.resolve("tuned"), "target + own adapter", targetKey, sae, RunCache.keyOf(sae), false,
        used.hookLayer(), used.tuneSteps());
    attach(runDir.resolve("base"), target.resolve("tuned"), md.resolve("attached"), root);

    Stages s = new Stages(used, runDir, seed, root);
    Map<Arm, Path> evals = new java.util.EnumMap<>(Arm.class);
    evals.put(Arm.BASE, runDir.resolve("eval/base"));
    evals.put(Arm.BASE_OWN_ADAPTER, runDir.resolve("eval/resa"));
    evals.put(Arm.BASE_TARGET_ADAPTER, md.resolve("eval/base-target-adapter"));
    evals.put(Arm.TARGET, md.resolve("eval/target"));
    evals.put(Arm.TARGET_OWN_ADAPTER, md.resolve("eval/target-own-adapter"));
    s.evaluate(md.resolve("attached"), evals.get(Arm.BASE_TARGET_ADAPTER), Arm.BASE_TARGET_ADAPTER.label);
    s.evaluate(target.resolve("base"), evals.get(Arm.TARGET), Arm.TARGET.label);
    s.evaluate(target.resolve("tuned"), evals.get(Arm.TARGET_OWN_ADAPTER), Arm.TARGET_OWN_ADAPTER.label);

    Map<Arm, Path> tuned = Map.of(Arm.BASE_OWN_ADAPTER, runDir.resolve(Miniature.route("resa").dir()), Arm.BASE_TARGET_ADAPTER,
        target.resolve("tuned"), Arm.TARGET_OWN_ADAPTER, target.resolve("tuned"));
    Table t = table(evals, tuned);
    AtomicFiles.write(md.resolve("modularity.csv"), out -> {
      OutputStreamWriter w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
      t.write().csv(w);
      w.flush();
    });
    return t;
  }

  /** Loads the PEFT adapter of {@code tunedDir} onto the model in {@code baseDir} and saves the merged model in {@code out}. */
  private static void attach(Path baseDir, Path tunedDir, Path out, NDManager root) throws IOException {
    String key = RunCache.key("attach", RunCache.keyOf(baseDir), RunCache.keyOf(tunedDir));
    if (RunCache.done(out, key)) return;
    long t0 = System.nanoTime();
    try (DecoderLM base = HfCheckpoint.load(baseDir, root); Lora adapter = Lora.load(tunedDir.resolve("adapter"), base.config(), root)) {
      adapter.attachTo(base); // throws unless every module fits base's shapes
      MergedModel.save(base, adapter, out); // the attached model's function, as a plain HF folder the evaluator opens
      ArithmeticTask.tokenizer().save(out.resolve("char_tokenizer.json"));
      RunCache.finish(out, key, Table.create("none"), t0, Map.of());
    }
  }

  /** The table from the arms' per-problem scores ({@code <eval>/problems.csv}) and the tuned arms' Stage-II folders. */
  static Table table(Map<Arm, Path> evals, Map<Arm, Path> tuned) throws IOException {
    Map<Arm, ProblemScores> scores = new java.util.EnumMap<>(Arm.class);
    for (Arm a : Arm.values()) scores.put(a, ProblemScores.read(Stages.problemsFile(evals.get(a))));
    StringColumn model = StringColumn.create("model"), weights = StringColumn.create("weights"), adapter = StringColumn.create("adapter");
    DoubleColumn p1 = DoubleColumn.create("pass1"), lo = DoubleColumn.create("pass1_lo"), hi = DoubleColumn.create("pass1_hi");
    DoubleColumn gain = DoubleColumn.create("gain"), gainLo = DoubleColumn.create("gain_lo"), gainHi = DoubleColumn.create("gain_hi");
    DoubleColumn think = DoubleColumn.create("think"), startKl = DoubleColumn.create("start_kl");
    for (Arm a : Arm.values()) {
      ProblemScores s = scores.get(a);
      if (!s.ids().equals(scores.get(Arm.BASE).ids())) throw new IllegalStateException(a.label + " was scored on other problems than base");
      double[][] rows = {s.pass1()}; // [1 seed][problem]
      Interval m = PairedBootstrap.mean(rows, Intervals.BOOTSTRAP);
      Interval g = a.plain() == a ? new Interval(Double.NaN, Double.NaN, Double.NaN, m.level())
          : PairedBootstrap.difference(rows, new double[][] {scores.get(a.plain()).pass1()}, Intervals.BOOTSTRAP);
      model.append(a.label);
      weights.append(a.weights.name().toLowerCase(Locale.ROOT));
      adapter.append(a.adapter());
      p1.append(m.estimate());
      lo.append(m.lo());
      hi.append(m.hi());
      gain.append(g.estimate());
      gainLo.append(g.lo());
      gainHi.append(g.hi());
      think.append(java.util.Arrays.stream(s.think()).average().orElse(Double.NaN));
      startKl.append(tuned.containsKey(a) ? RunCache.read(tuned.get(a)).get("start_kl") : Double.NaN);
    }
    return Table.create("Table 5 modularity: an adapter SAE-tuned on another target, attached to base (Pass@1, 95 % paired bootstrap)",
        model, weights, adapter, p1, lo, hi, gain, gainLo, gainHi, think, startKl);
  }
}
