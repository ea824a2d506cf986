package dev.resa.miniature;

import ai.djl.ndarray.NDManager;
import dev.resa.core.Djl;
import dev.resa.eval.PairedBootstrap;
import dev.resa.eval.PairedBootstrap.Interval;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.task.ArithmeticTask;
import dev.resa.tuning.Grpo;
import dev.resa.tuning.Lora;
import dev.resa.tuning.MergedModel;
import dev.resa.viz.Plots;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.components.Figure;

/**
 * Table 4's source sweep: how much RL the source needs before SAE-Tuning can pass its reasoning on. The source stage
 * keeps its GRPO adapter every {@link #checkpointEvery} rounds ({@code source/checkpoint-N/}, PEFT); for each chosen
 * source step {@code k} (0 is base itself, Tina-0-step; the preset's {@code rlSteps} is the finished source):
 *
 * <ol>
 *   <li>the source at step k: base, the finished source, or base + the step-k adapter merged;
 *   <li>Stage I from scratch on its residual stream after the hook layer over the CoT-free trigger texts, exactly as
 *       {@link Miniature.SaeMode#SCRATCH} (so step 0 is {@link Miniature.SaeMode#SELF}'s setup);
 *   <li>Stage II of base with that SAE, as the main run's {@code resa};
 *   <li>held-out scores, problem by problem, of the step-k source and of the tuned model.
 * </ol>
 *
 * Everything is cached under {@code <run>/experiments/source-step-<k>/} ({@code model/} for a merged checkpoint,
 * {@code sae/}, {@code tuned/}, {@code eval/}, {@code eval-source/}) and keyed like every stage, so a second call trains
 * nothing. Intervals are the main report's: paired percentile bootstrap over the test problems ({@link Intervals#BOOTSTRAP}).
 */
public final class SourceSweep {
  private SourceSweep() {}

  /** How many evenly spaced GRPO checkpoints the source stage keeps (a quarter of its rounds apart). */
  public static final int CHECKPOINTS = 4;

  /** GRPO rounds between the source's kept adapters: {@code rlSteps / 4}, at least 1. */
  public static int checkpointEvery(Preset p) {
    return Math.max(1, p.rlSteps() / CHECKPOINTS);
  }

  /** Loop steps between the source's kept adapters: {@link #checkpointEvery} rounds of the source's GRPO inner steps each. */
  static int checkpointLoopSteps(Preset p) {
    return checkpointEvery(p) * INNER;
  }

  /** GRPO loop steps per round in the source stage (it uses {@code Grpo.Config.defaults()}'s). */
  private static final int INNER = Grpo.Config.defaults().innerSteps();

  /** Source steps the sweep can use: 0, every kept checkpoint, and {@code rlSteps}, ascending. */
  public static int[] availableSteps(Preset p) {
    int every = checkpointEvery(p);
    return IntStream.concat(IntStream.rangeClosed(0, p.rlSteps() / every).map(i -> i * every), IntStream.of(p.rlSteps())).distinct().sorted().toArray();
  }

  /**
   * One source step's results.
   *
   * @param step GRPO rounds of the source (0 = base).
   * @param sourcePass1 the step-k source's own held-out Pass@1.
   * @param sourceThink share of the step-k source's samples with a worked step.
   * @param pass1 SAE-tuned base's Pass@1 with its 95 % interval.
   * @param think share of the SAE-tuned model's samples with a worked step.
   * @param vsBase SAE-tuned minus base Pass@1, paired by problem, with its 95 % interval.
   * @param startKl token-mean KL(base ‖ base with the SAE spliced in) before Stage II (nats).
   */
  public record Row(int step, double sourcePass1, double sourceThink, Interval pass1, double think, Interval vsBase, double startKl) {}

  /** Runs (or reads back) the sweep on a finished run: one row per step, in the order given. */
  public static List<Row> run(Preset p, Path outRoot, long seed, int... steps) throws IOException {
    Path dir = Miniature.runDir(outRoot, p, seed);
    for (Miniature.Model m : Miniature.Model.values()) {
      if (!Files.isRegularFile(dir.resolve(m.dir()).resolve("stage.json"))) throw new IllegalStateException(dir.resolve(m.dir()) + " is not trained: call Miniature.run first");
    }
    check(p, steps);
    Djl.init();
    Stages.threads();
    List<Row> rows = new ArrayList<>();
    try (NDManager root = Djl.newManager(Djl.defaultDevice())) {
      Stages s = new Stages(p, dir, seed, root);
      Path baseDir = dir.resolve(Miniature.Model.BASE.dir());
      String baseKey = RunCache.keyOf(baseDir);
      Path baseEval = dir.resolve("experiments").resolve("source-step-base").resolve("eval");
      s.evaluate(baseDir, baseEval, "base");
      ProblemScores base = ProblemScores.read(Stages.problemsFile(baseEval));
      for (int k : steps) {
        Path ed = dir.resolve("experiments").resolve("source-step-" + k);
        Path model = sourceAt(p, dir, k, root);
        String saeKey = s.scratchSae(ed.resolve("sae"), model, RunCache.keyOf(model));
        s.tune(ed.resolve("tuned"), "source-step-" + k, baseKey, ed.resolve("sae"), saeKey, false, p.hookLayer(), p.tuneSteps());
        Scoring.Score src = k == 0 ? s.evaluate(baseDir, baseEval, "base") : s.evaluate(model, ed.resolve("eval-source"), "source step " + k);
        Scoring.Score resa = s.evaluate(ed.resolve("tuned"), ed.resolve("eval"), "resa from source step " + k);
        ProblemScores tuned = ProblemScores.read(Stages.problemsFile(ed.resolve("eval")));
        if (!tuned.ids().equals(base.ids())) throw new IllegalStateException(ed + ": scored on other test problems than base");
        double[][] t = {tuned.pass1()}, b = {base.pass1()};
        rows.add(new Row(k, src.pass1(), src.thinkRate(), PairedBootstrap.mean(t, Intervals.BOOTSTRAP), resa.thinkRate(),
            PairedBootstrap.difference(t, b, Intervals.BOOTSTRAP), RunCache.read(ed.resolve("tuned")).get("start_kl")));
      }
    }
    return rows;
  }

  private static void check(Preset p, int[] steps) {
    if (steps.length == 0) throw new IllegalArgumentException("no source steps given; available: " + Arrays.toString(availableSteps(p)));
    if (Arrays.stream(steps).distinct().count() != steps.length) throw new IllegalArgumentException("repeated source step in " + Arrays.toString(steps));
    for (int k : steps) {
      if (Arrays.stream(availableSteps(p)).noneMatch(a -> a == k)) {
        throw new IllegalArgumentException("source step " + k + " was not kept; the source keeps " + Arrays.toString(availableSteps(p)));
      }
    }
  }

  /** {@link #sourceAt(Preset, Path, int, Path, NDManager)} merging into the sweep's own {@code experiments/source-step-<k>/model/}. */
  static Path sourceAt(Preset p, Path dir, int k, NDManager root) throws IOException {
    return sourceAt(p, dir, k, dir.resolve("experiments").resolve("source-step-" + k).resolve("model"), root);
  }

  /**
   * The folder of the source after {@code k} GRPO rounds: base for 0, the finished source for {@code rlSteps}, else
   * base with the step-k adapter merged into {@code out} (cached, keyed by the source's key and k).
   */
  static Path sourceAt(Preset p, Path dir, int k, Path out, NDManager root) throws IOException {
    if (k == 0) return dir.resolve(Miniature.Model.BASE.dir());
    Path source = dir.resolve(Miniature.Model.SOURCE.dir());
    if (k == p.rlSteps()) return source;
    String key = RunCache.key("source-step", RunCache.keyOf(source), k);
    if (RunCache.done(out, key)) return out;
    Path adapter = source.resolve("checkpoint-" + (long) k * INNER); // LoraTrainer names checkpoints by loop step
    if (!Files.isRegularFile(adapter.resolve("adapter_config.json"))) throw new IllegalStateException(adapter + " is missing: the source was trained before it kept checkpoints; "
          + "Miniature.run retrains it");
    long t0 = System.nanoTime();
    try (DecoderLM base = HfCheckpoint.load(dir.resolve(Miniature.Model.BASE.dir()), root); Lora lora = Lora.load(adapter, base.config(), root)) {
      MergedModel.save(base, lora, out);
    }
    ArithmeticTask.tokenizer().save(out.resolve("char_tokenizer.json"));
    RunCache.finish(out, key, Table.create("none"), t0, Map.of());
    return out;
  }

  /**
   * The sweep as a table: source_step, source_pass1, source_think, pass1 with pass1_lo / pass1_hi, think, vs_base with
   * vs_base_lo / vs_base_hi, start_kl.
   */
  public static Table table(List<Row> rows) {
    Table t = Table.create("source sweep", IntColumn.create("source_step", rows.stream().mapToInt(Row::step).toArray()));
    t.addColumns(col("source_pass1", rows, r -> r.sourcePass1()), col("source_think", rows, r -> r.sourceThink()),
        col("pass1", rows, r -> r.pass1().estimate()), col("pass1_lo", rows, r -> r.pass1().lo()), col("pass1_hi", rows, r -> r.pass1().hi()),
        col("think", rows, r -> r.think()), col("vs_base", rows, r -> r.vsBase().estimate()), col("vs_base_lo", rows, r -> r.vsBase().lo()),
        col("vs_base_hi", rows, r -> r.vsBase().hi()), col("start_kl", rows, r -> r.startKl()));
    return t;
  }

  private static DoubleColumn col(String name, List<Row> rows, java.util.function.ToDoubleFunction<Row> f) {
    return DoubleColumn.create(name, rows.stream().mapToDouble(f).toArray());
  }

  /** Pass@1 of each step's source and of SAE-tuned base (its 95 % interval shaded), and both think rates, against source step. */
  public static Figure plot(Table sweep) {
    return Plots.curvesWithBand("Source sweep: SAE-Tuning with an SAE from the source after k GRPO rounds", sweep, "source_step",
        "pass1_lo", "pass1_hi", "pass1 95 % interval", "source_pass1", "pass1", "source_think", "think");
  }
}
