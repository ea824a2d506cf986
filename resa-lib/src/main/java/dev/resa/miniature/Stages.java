package dev.resa.miniature;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.resa.activations.ActivationCache;
import dev.resa.activations.ActivationSource;
import dev.resa.activations.Packing;
import dev.resa.io.SafeTensors;
import dev.resa.miniature.Miniature.Kind;
import dev.resa.miniature.Miniature.Model;
import dev.resa.miniature.Miniature.Route;
import dev.resa.miniature.Miniature.SaeMode;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import dev.resa.sae.SaeMetrics;
import dev.resa.sae.SaeTrainer;
import dev.resa.sae.SparseCoder;
import dev.resa.sae.SparseCoderConfig;
import dev.resa.sae.SparsifyFormat;
import dev.resa.task.ArithmeticTask;
import dev.resa.task.ArithmeticTask.Split;
import dev.resa.tokenizer.CharTokenizer;
import dev.resa.train.Batches;
import dev.resa.train.LmTrainer;
import dev.resa.train.Progress;
import dev.resa.train.TokenBatch;
import dev.resa.tuning.Grpo;
import dev.resa.tuning.LoraConfig;
import dev.resa.tuning.LoraTrainer;
import dev.resa.tuning.MergedModel;
import dev.resa.tuning.SaeTuning;
import dev.resa.tuning.Sft;
import dev.resa.tuning.Splice;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

/** The miniature's stages, each a call into the library with the preset's knobs, cached by {@link RunCache}. */
final class Stages {
  private final Preset p;
  private final Path dir;
  private final long seed;
  private final NDManager root;
  private final CharTokenizer tok = ArithmeticTask.tokenizer();
  private final List<ArithmeticTask.Problem> trainPool;
  private final List<ArithmeticTask.Problem> test;

  Stages(Preset p, Path dir, long seed, NDManager root) {
    this.p = p;
    this.dir = dir;
    this.seed = seed;
    this.root = root;
    this.trainPool = new ArithmeticTask(p.task()).problems(Split.TRAIN, POOL, seed);
    this.test = testSet(p);
  }

  /** The same held-out problems for every seed. */
  static List<ArithmeticTask.Problem> testSet(Preset p) {
    return new ArithmeticTask(p.task()).problems(Split.TEST, p.testProblems(), 0);
  }

  int testSize() {
    return test.size();
  }

  /** Problems the seed's training draws from (the first {@link #POOL} train-split problems of its seed). */
  List<ArithmeticTask.Problem> trainPool() {
    return trainPool;
  }

  /**
   * {@code n} validation problems: the train-split problems drawn right after the seed's pool, so they are disjoint
   * from the test split (by hash) and from every problem this seed trains on.
   */
  List<ArithmeticTask.Problem> validation(int n) {
    return new ArithmeticTask(p.task()).problems(Split.TRAIN, POOL + n, seed).subList(POOL, POOL + n);
  }

  /** Size of a seed's pool of training problems. */
  static final int POOL = 20_000;

  /**
   * One intra-op thread unless {@code RESA_THREADS} says otherwise: the miniature's matrices are so small that
   * PyTorch's thread pool costs more than it saves, and on a shared 2-core machine it oversubscribes the cores.
   */
  static void threads() {
    String env = System.getenv("RESA_THREADS");
    ai.djl.engine.Engine.getInstance();
    ai.djl.pytorch.jni.JniUtils.setNumThreads(env == null ? 1 : Integer.parseInt(env.trim()));
  }

  // ---- data ----

  static String[] cotFree(ArithmeticTask.Problem q) {
    return new String[] {ArithmeticTask.prompt(q), ArithmeticTask.cotFreeCompletion(q)};
  }

  /** {@code batch} (prompt, completion) pairs of pool problems, a share {@code traceShare} written with traces. */
  private Function<Random, List<String[]>> mix(double traceShare, int batch) {
    return rng -> {
      List<String[]> out = new ArrayList<>(batch);
      for (int i = 0; i < batch; i++) {
        ArithmeticTask.Problem q = trainPool.get(rng.nextInt(trainPool.size()));
        out.add(rng.nextDouble() < traceShare ? new String[] {ArithmeticTask.prompt(q), ArithmeticTask.tracedCompletion(q)} : cotFree(q));
      }
      return out;
    };
  }

  /** The trigger set: CoT-free texts of the first {@code saeTexts} pool problems. */
  List<String[]> triggerTexts() {
    return trainPool.subList(0, p.saeTexts()).stream().map(Stages::cotFree).toList();
  }

  /** Documents {@code <bos>prompt completion}, packed into 64-token chunks as sparsify packs (EOS between documents). */
  private List<long[]> chunks(List<String[]> texts) {
    return Packing.pack(texts.stream().map(t -> "<bos>" + t[0] + t[1]).toList(), tok, 64);
  }

  private DecoderLM load(Path d) throws IOException {
    return HfCheckpoint.load(d, root);
  }

  private void saveTokenizer(Path d) throws IOException {
    tok.save(d.resolve("char_tokenizer.json")); // so ./resa eval / generate open the folder like any model
  }

  /** LoRA dropout of every route (GRPO, Stage II, SFT): 0.05, the recipe of Resa and Tina (PEFT: on A's input, training only). */
  static final double LORA_DROPOUT = 0.05;

  private LoraConfig lora(int fromLayer, long loraSeed) {
    return new LoraConfig(p.loraRank(), p.loraAlpha(), LORA_DROPOUT, LoraConfig.ALL_TARGETS, LoraConfig.layersFrom(fromLayer, p.layers()), loraSeed);
  }

  private static double sum(Table log, String column) {
    return log.doubleColumn(column).sum();
  }

  // ---- stages ----

  /** Base: next-token pretraining of a random tiny Qwen2 on the traced / answer-only mix, loss on completions. */
  String base() throws IOException {
    Path d = dir.resolve("base");
    String key = RunCache.key("base", p.task(), p.hidden(), p.layers(), p.heads(), p.intermediate(), p.baseSteps(), p.baseBatch(), p.baseLr(), p.traceShare(), seed);
    if (RunCache.done(d, key)) return key;
    System.out.printf("== base: pretraining on a %.0f/%.0f traced / answer-only mix%n", 100 * p.traceShare(), 100 * (1 - p.traceShare()));
    long t0 = System.nanoTime();
    ModelConfig cfg = ModelConfig.tinyQwen2(tok.vocabSize(), p.hidden(), p.layers(), p.heads(), Math.max(1, p.heads() / 2), p.intermediate(), 96)
        .withTokens(tok.bosId(), tok.eosId());
    try (DecoderLM model = new DecoderLM(cfg, Weights.random(cfg, root.newSubManager(), seed, DataType.FLOAT32))) {
      Pretraining.run("base", model, Pretraining.config(p, p.baseSteps(), p.baseLr(), seed), Batches.pairs(tok, seed, mix(p.traceShare(), p.baseBatch())), d, key, t0);
    }
    return key;
  }

  /**
   * {@link Modularity.Target.Continued}: the run's base pretrained {@code steps} more by base's loop on a mix with
   * {@code traceShare} traced examples, drawn with another data seed ({@code seed + 17}) from the same pool; the lr
   * peaks at base's final lr ({@code baseLr} times {@link LmTrainer.Config#minLrRatio}), so the continuation resumes
   * where base's schedule ended instead of re-warming to its peak. Zero steps saves base unchanged.
   */
  String continued(Path d, String baseKey, int steps, double traceShare) throws IOException {
    String key = RunCache.key("continued", baseKey, steps, p.baseBatch(), p.baseLr(), traceShare, seed);
    if (RunCache.done(d, key)) return key;
    System.out.printf("== continued base: %d more steps on a %.0f/%.0f traced / answer-only mix%n", steps, 100 * traceShare, 100 * (1 - traceShare));
    long t0 = System.nanoTime();
    try (DecoderLM model = load(dir.resolve("base"))) {
      LmTrainer.Config tc = steps == 0 ? null : Pretraining.config(p, steps, p.baseLr() * LmTrainer.Config.defaults().minLrRatio(), seed + 17);
      Pretraining.run("continued", model, tc, Batches.pairs(tok, seed + 17, mix(traceShare, p.baseBatch())), d, key, t0);
    }
    return key;
  }

  /**
   * The source's GRPO reward, Tina's: r = 2·accuracy + 1·format ({@link Grpo#TINA_ACCURACY_WEIGHT},
   * {@link Grpo#TINA_FORMAT_WEIGHT}), with the task's exact-match grader and its format check
   * ({@link ArithmeticTask#accuracyReward}, {@link ArithmeticTask#formatReward}); the log keeps both terms' means.
   */
  static final Grpo.Weighted SOURCE_REWARD = Grpo.Reward.weighted(
      new Grpo.Term("accuracy", Grpo.TINA_ACCURACY_WEIGHT, ArithmeticTask::accuracyReward),
      new Grpo.Term("format", Grpo.TINA_FORMAT_WEIGHT, (completion, answer) -> ArithmeticTask.formatReward(completion)));

  /**
   * Source: CoT-free GRPO on base with Tina's reward (2·accuracy + 1·format) and lr schedule, merged; keeps its adapter
   * every quarter of its rounds for {@link SourceSweep}.
   */
  String source(String baseKey) throws IOException {
    Path d = dir.resolve("source");
    LoraTrainer.Config loop = Grpo.tinaLoop(p.rlLr()); // Tina's schedule at the preset's (toy-scale) peak lr
    int every = SourceSweep.checkpointLoopSteps(p); // GRPO loop steps between kept adapters, for the source sweep
    String key = RunCache.key("source", baseKey, every, p.rlSteps(), p.rlPrompts(), p.rlGroup(), p.rlLr(), p.rlKl(), p.rlTemperature(), p.loraRank(),
        p.loraAlpha(), LORA_DROPOUT, p.maxNewTokens(), RunCache.rewardKey(SOURCE_REWARD), RunCache.loopKey(loop));
    if (RunCache.done(d, key)) return key;
    System.out.println("== source: CoT-free GRPO with LoRA on base (reward 2 accuracy + 1 format), then merge");
    long t0 = System.nanoTime();
    List<dev.resa.eval.Problem> problems = new ArrayList<>();
    for (var q : new ArithmeticTask(p.task()).problems(Split.TRAIN, p.rlSteps() * p.rlPrompts(), seed * 7919)) problems.add(ArithmeticTask.asProblem(q));
    Grpo.Config cfg = Grpo.Config.defaults().withLora(lora(0, seed + 1)).withGroups(p.rlPrompts(), p.rlGroup()).withMaxNewTokens(p.maxNewTokens())
        .withTemperature(p.rlTemperature()).withKlBeta(p.rlKl()).withRounds(p.rlSteps()).withSeed(seed + 1).withTrain(loop.withOutput(d, every, "base"));
    List<Double> thinkRate = new ArrayList<>();
    try (DecoderLM model = load(dir.resolve("base")); Grpo grpo = new Grpo(model, tok, SOURCE_REWARD, cfg)) {
      grpo.onCompletions(texts -> thinkRate.add(texts.stream().filter(ArithmeticTask::thinks).count() / (double) texts.size()));
      Table log = grpo.train(problems).log().table();
      log.addColumns(DoubleColumn.create("think_rate", thinkRate.stream().mapToDouble(Double::doubleValue).toArray()));
      MergedModel.save(model, grpo.adapter(), d);
      saveTokenizer(d);
      double n = p.rlPrompts() * p.rlGroup();
      double gen = sum(log, "completion_tokens") * n;
      RunCache.finish(d, key, log, t0, Map.of("tokens", sum(log, "tokens"), "flops", Costs.grpo(model.config(), gen, sum(log, "tokens"))));
    }
    return key;
  }

  /** Activations of {@code model} at the hook layer over {@code texts}, cached on disk (shared by SAEs that read them). */
  private Path activations(Path modelDir, String modelKey, String dataName, List<String[]> texts) throws IOException {
    Path d = dir.resolve("acts").resolve(dir.relativize(modelDir).toString().replace(java.io.File.separatorChar, '-') + "-" + dataName + "-layers." + p.hookLayer());
    String key = RunCache.key("acts", modelKey, dataName, texts.size(), p.hookLayer());
    if (RunCache.done(d, key)) return d;
    long t0 = System.nanoTime();
    try (DecoderLM lm = load(modelDir)) {
      ActivationCache.Info info = ActivationCache.write(d, new ActivationSource(lm, List.of(hook())), chunks(texts), 64, SafeTensors.FloatFormat.F32);
      RunCache.finish(d, key, Table.create("none"), t0, Map.of("rows", (double) info.rows(), "flops", Costs.capture(lm.config(), info.rows(), p.hookLayer())));
    }
    return d;
  }

  private String hook() {
    return "layers." + p.hookLayer();
  }

  /**
   * Stage I in one mode: SaeTrainer (the preset's optimiser, SignSGD + Schedule-Free by default) on cached activations
   * of base, or for the source's modes of the source after {@code saeSourceStep} GRPO rounds ({@link SourceSweep#sourceAt}).
   */
  String sae(SaeMode mode, String initKey) throws IOException {
    Path modelDir = mode.model == Model.BASE ? dir.resolve(Model.BASE.dir()) : SourceSweep.sourceAt(p, dir, p.saeSourceStep(), root);
    return sae(dir.resolve(mode.dir()), modelDir, RunCache.keyOf(modelDir), mode == SaeMode.PRETRAINED ? "pretrain" : "trigger",
        mode == SaeMode.PRETRAINED ? mix(p.traceShare(), p.saeTexts()).apply(new Random(seed + 5)) : triggerTexts(),
        mode == SaeMode.FINETUNED ? dir.resolve(SaeMode.PRETRAINED.dir()) : null, initKey, p.saeSteps());
  }

  /** Stage I from scratch on the model in {@code modelDir} over the trigger texts, as {@link SaeMode#SCRATCH} and SELF train theirs. */
  String scratchSae(Path d, Path modelDir, String modelKey) throws IOException {
    return sae(d, modelDir, modelKey, "trigger", triggerTexts(), null, null, p.saeSteps());
  }

  String sae(Path d, Path modelDir, String modelKey, String dataName, List<String[]> texts, Path init, String initKey, int steps) throws IOException {
    Path acts = activations(modelDir, modelKey, dataName, texts);
    String key = RunCache.key("sae", RunCache.keyOf(acts), initKey, p.saeLatents(), p.saeK(), p.saeOptimizer(), p.saeLr(), steps, p.saeBatch(), seed);
    if (RunCache.done(d, key)) return key;
    System.out.println("== Stage I: SAE " + dir.relativize(d) + " on " + dir.relativize(modelDir) + ", " + hook() + " (" + p.saeOptimizer() + ")");
    long t0 = System.nanoTime();
    SparseCoder start = init != null ? SparsifyFormat.read(init, root) : SparseCoder.init(SparseCoderConfig.of(p.hidden(), p.saeLatents(), p.saeK()), root, 42);
    SaeTrainer.Config cfg = SaeTrainer.Config.resa().withOptimizer(p.saeOptimizer()).withLr(p.saeLr()).withDeadThreshold(50L * p.saeBatch());
    try (SaeTrainer trainer = new SaeTrainer(cfg, Map.of(hook(), start)); NDManager kept = root.newSubManager()) {
      Table history = trainer.fit(epochs(acts, kept), steps);
      SparseCoder sae = trainer.averaged(hook(), kept);
      SparsifyFormat.write(d, sae);
      Table log = Table.create("sae", IntColumn.create("step", history.intColumn("step").asIntArray()), history.doubleColumn("fvu").copy(),
          history.doubleColumn("l0").copy(), DoubleColumn.create("dead_pct", history.doubleColumn("dead_pct").multiply(100).asDoubleArray()));
      Map<String, Double> extra = new LinkedHashMap<>();
      double rows = RunCache.read(acts).get("rows");
      extra.put("flops", RunCache.read(acts).get("flops") + Costs.sae(p.hidden(), p.saeLatents(), (long) steps * p.saeBatch()));
      extra.put("activation_rows", rows);
      List<String[]> heldOut = trainPool.subList(p.saeTexts(), p.saeTexts() + 200).stream().map(Stages::cotFree).toList();
      for (Model m : Model.values()) {
        try (DecoderLM lm = load(dir.resolve(m.dir()))) {
          Iterator<Map<String, NDArray>> it = new ActivationSource(lm, List.of(hook())).batches(chunks(heldOut), 64, kept);
          extra.put("fvu_heldout_" + m.dir(), SaeMetrics.reconstruction(sae, map(it)).fvu());
        }
      }
      double[] density = SaeMetrics.reconstruction(sae, map(ActivationCache.stream(acts, kept, 4096, 1, 0))).density();
      Files.createDirectories(d);
      dev.resa.io.AtomicFiles.writeString(d.resolve("density.json"), RunCache.GSON.toJson(density));
      RunCache.finish(d, key, log, t0, extra);
    }
    return key;
  }

  /** The hook's arrays of a stream of activation batches. */
  private Iterator<NDArray> map(Iterator<Map<String, NDArray>> it) {
    return new Iterator<>() {
      public boolean hasNext() {
        return it.hasNext();
      }

      public NDArray next() {
        return it.next().get(hook());
      }
    };
  }

  /** Endless shuffled passes over a cache, each pass reseeded, {@code saeBatch} rows per batch. */
  private Iterator<Map<String, NDArray>> epochs(Path acts, NDManager m) {
    return new Iterator<>() {
      int epoch = 0;
      Iterator<Map<String, NDArray>> cur = open();

      private Iterator<Map<String, NDArray>> open() {
        try {
          return ActivationCache.stream(acts, m, p.saeBatch(), 1 << 22, seed + 7 + epoch++);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      public boolean hasNext() {
        return true;
      }

      public Map<String, NDArray> next() {
        if (!cur.hasNext()) cur = open();
        return cur.next();
      }
    };
  }

  /** The (prompt, completion) batch on which starting KLs are measured and the control is calibrated. */
  private List<String[]> klTexts() {
    return mix(0, 64).apply(new Random(seed + 11));
  }

  /**
   * Stage II: SaeTuning of base with the route's SAE spliced after the hook layer; for the control, a random
   * distortion whose starting KL matches that SAE's. Saves the merged model (HF), the adapter (PEFT) and the log.
   */
  String tune(Route r, String baseKey, String saeKey) throws IOException {
    return tune(dir.resolve(r.dir()), r.name(), baseKey, dir.resolve(r.sae().dir()), saeKey, r.kind() == Kind.CONTROL, p.hookLayer(), p.tuneSteps());
  }

  String tune(Path d, String name, String baseKey, Path saeDir, String saeKey, boolean control, int layer, int steps) throws IOException {
    String key = RunCache.key("tune", baseKey, saeKey, control, layer, steps, p.tuneBatch(), p.tuneLr(), p.loraRank(), p.loraAlpha(), LORA_DROPOUT, seed);
    if (RunCache.done(d, key)) return key;
    System.out.println("== Stage II: " + name);
    long t0 = System.nanoTime();
    try (DecoderLM model = load(dir.resolve("base")); SparseCoder sae = SparsifyFormat.read(saeDir, root); NDManager splices = root.newSubManager()) {
      UnaryOperator<NDArray> splice = sae::reconstruct;
      if (control) splice = Control.calibrated(model, splices, layer, spliceKl(model, splice, layer), (op) -> spliceKl(model, op, layer),
          activationMean(model, layer), seed + 13);
      double startKl = spliceKl(model, splice, layer);
      SaeTuning.Config cfg = SaeTuning.Config.resa(layer).withLora(lora(layer + 1, seed + 3)).withTrain(LoraTrainer.Config.of(p.tuneLr()).withOutput(d, 0, "base"));
      try (SaeTuning tuning = new SaeTuning(model, frozen(model, splice), cfg)) {
        Table log = tuning.train(Batches.pairs(tok, seed + 3, mix(0, p.tuneBatch())), steps).log().table();
        tuning.saveMerged(d);
        saveTokenizer(d);
        Map<String, Double> extra = new LinkedHashMap<>();
        extra.put("flops", Costs.saeTune(model.config(), sum(log, "tokens"), layer));
        extra.put("start_kl", startKl);
        extra.put("final_kl", log.doubleColumn("kl_token").get(log.rowCount() - 1));
        RunCache.finish(d, key, log, t0, extra);
      }
    }
    return key;
  }

  /** Called after each Stage-II step with the base model and its live adapter (in evaluation mode). */
  interface Watch {
    void at(int step, DecoderLM adapted) throws IOException;
  }

  /**
   * Stage II of base with the SAE in {@code saeDir}, exactly as {@link #tune} runs it (same adapter seed, data, dropout
   * masks; the schedule is constant, so step s of a longer run equals a run of s steps), at learning rate {@code lr},
   * calling {@code watch} after every step. Nothing is saved. Returns the step log.
   */
  Table tuneWatched(Path saeDir, double lr, int steps, Watch watch) throws IOException {
    try (DecoderLM model = load(dir.resolve("base")); SparseCoder sae = SparsifyFormat.read(saeDir, root)) {
      SaeTuning.Config cfg = SaeTuning.Config.resa(p.hookLayer()).withLora(lora(p.hookLayer() + 1, seed + 3)).withTrain(LoraTrainer.Config.of(lr));
      try (SaeTuning tuning = new SaeTuning(model, frozen(model, sae::reconstruct), cfg)) {
        tuning.trainer().onStep(log -> {
          try {
            watch.at(log.rows(), model);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
        return tuning.train(Batches.pairs(tok, seed + 3, mix(0, p.tuneBatch())), steps).log().table();
      }
    }
  }

  /** A splice as a frozen {@link Splice} (no gradient flows into it). */
  private static Splice frozen(DecoderLM model, UnaryOperator<NDArray> f) {
    return new Splice() {
      @Override
      public NDArray reconstruct(NDArray x) {
        return f.apply(x).stopGradient(); // [N, D]
      }

      @Override
      public int dIn() {
        return model.config().hiddenSize();
      }
    };
  }

  /** Token-mean KL(un-spliced ‖ spliced) of the plain model on {@link #klTexts}: SaeTuning's first loss, before any update. */
  private double spliceKl(DecoderLM model, UnaryOperator<NDArray> splice, int layer) {
    SaeTuning.Config cfg = SaeTuning.Config.resa(layer).withLora(lora(layer + 1, 0));
    try (SaeTuning probe = new SaeTuning(model, frozen(model, splice), cfg); NDManager scope = model.stepScope()) {
      TokenBatch b = TokenBatch.pairs(scope, tok, klTexts());
      double kl = probe.backward(b.tokens(), b.valid()).kl() * b.tokens().getShape().get(0) / b.realTokens();
      dev.resa.train.Gradients.zero(probe.adapter().parameters());
      return kl;
    }
  }

  /** Mean residual-stream activation after {@code layer} over (at most 200) trigger texts. */
  private float[] activationMean(DecoderLM model, int layer) {
    List<String[]> texts = triggerTexts().subList(0, Math.min(200, p.saeTexts()));
    try (NDManager m = root.newSubManager()) {
      var rows = new ActivationSource(model, List.of("layers." + layer)).capture(chunks(texts), m).get("layers." + layer); // [N, D]
      return rows.mean(new int[] {0}).toFloatArray();
    }
  }

  /** What the SFT baselines' loss covers: the whole text, prompt included, as {@code sft.py} (its completion-only collator is commented out). */
  static final TokenBatch.Coverage SFT_COVERAGE = TokenBatch.Coverage.WHOLE_TEXT;

  /**
   * The SFT baselines: LoRA cross-entropy on the whole text (prompt + completion), CoT-free (answers only) or CoT
   * (traces), in the task's own written form; Stage II's steps, batch and lr.
   */
  String sft(Route r, String baseKey) throws IOException {
    Path d = dir.resolve(r.dir());
    boolean traces = r.kind() == Kind.SFT_COT;
    Sft.Config cfg = Sft.Config.resa().withLora(lora(0, seed + 4)).withLr(p.tuneLr()).withOutput(d, 0, "base"); // sft.py's loop at Stage II's lr
    String key = RunCache.key("sft", baseKey, traces, p.tuneSteps(), p.tuneBatch(), p.tuneLr(), p.loraRank(), p.loraAlpha(), LORA_DROPOUT, seed,
        SFT_COVERAGE, RunCache.loopKey(cfg.train()));
    if (RunCache.done(d, key)) return key;
    System.out.println("== SFT baseline: " + r.name());
    long t0 = System.nanoTime();
    try (DecoderLM model = load(dir.resolve("base")); Sft sft = new Sft(model, cfg)) {
      Table log = sft.train(Batches.pairs(tok, seed + 4, mix(traces ? 1 : 0, p.tuneBatch()), SFT_COVERAGE), p.tuneSteps()).log().table();
      MergedModel.save(model, sft.adapter(), d);
      saveTokenizer(d);
      RunCache.finish(d, key, log, t0, Map.of("flops", Costs.train(model.config(), sum(log, "tokens"))));
    }
    return key;
  }

  /** Held-out scores of one route's model into {@code eval/<name>.json}, keyed by the model's key. */
  void evaluate(Route r) throws IOException {
    evaluate(dir.resolve(r.dir()), dir.resolve("eval").resolve(r.name()), r.name());
  }

  /** Scores into {@code <d>.json} (summary) and {@code <d>/problems.csv} (per problem, for the bootstrap). */
  Scoring.Score evaluate(Path modelDir, Path d, String name) throws IOException {
    String key = RunCache.key("eval", RunCache.keyOf(modelDir), p.testProblems(), p.samples(), p.maxNewTokens());
    Path f = d.resolveSibling(d.getFileName() + ".json");
    if (RunCache.done(d, key) && Files.isRegularFile(f) && Files.isRegularFile(problemsFile(d))) {
      return RunCache.GSON.fromJson(Files.readString(f), Wrapper.class).score();
    }
    long t0 = System.nanoTime();
    try (DecoderLM model = load(modelDir)) {
      Scoring.Scored s = Scoring.score(model, p, name);
      s.problems().write(problemsFile(d));
      dev.resa.io.AtomicFiles.writeString(f, RunCache.GSON.toJson(new Wrapper(s.score(), (System.nanoTime() - t0) / 1e9)));
      RunCache.finish(d, key, Table.create("none"), t0, Map.of());
      return s.score();
    }
  }

  /** Where a route's per-problem scores live: {@code eval/<route>/problems.csv}. */
  static Path problemsFile(Path evalDir) {
    return evalDir.resolve("problems.csv");
  }

  private record Wrapper(Scoring.Score score, double wall_s) {}
}
