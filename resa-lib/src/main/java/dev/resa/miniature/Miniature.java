package dev.resa.miniature;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.reflect.TypeToken;
import dev.resa.core.Djl;
import dev.resa.io.AtomicFiles;
import dev.resa.io.SafeTensors;
import dev.resa.model.DecoderLM;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import dev.resa.task.ArithmeticTask;
import dev.resa.task.ArithmeticTask.Problem;
import dev.resa.task.ArithmeticTask.Split;
import dev.resa.sae.SaeMetrics;
import dev.resa.sae.SaeTrainer;
import dev.resa.sae.SparseCoder;
import dev.resa.sae.SparseCoderConfig;
import dev.resa.sae.SparsifyFormat;
import dev.resa.tokenizer.CharTokenizer;
import dev.resa.tuning.LoraConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Resa's whole story at toy scale, trained in-process and cached stage by stage under {@code runs/<preset>-s<seed>/}:
 *
 * <ol>
 *   <li><b>base</b> (R1-Distill's role): a tiny Qwen2 pretrained on a mix of traced and answer-only arithmetic;
 *   <li><b>source</b> (Tina's role): base + CoT-free GRPO with LoRA, merged;
 *   <li><b>Stage I</b>: TopK SAEs on the residual stream after the middle layer over CoT-free trigger texts, in
 *       the paper's three modes (from scratch and fine-tuned on source; pre-trained on base's pretraining mix) and
 *       with base as its own source (the paper's Tina-0-step);
 *   <li><b>Stage II</b>: SAE-Tuning of base with each SAE, plus a random-distortion control matched on starting KL;
 *   <li>the CoT-free and CoT SFT baselines; held-out evaluation of everything; a cost table; {@code report.md}.
 * </ol>
 *
 * A stage whose directory holds {@code stage.json} is loaded, not retrained; {@code fresh} deletes the run first.
 */
public final class Miniature {
  /** The Stage-II variants: name, SAE used (null = the random control), what it plays in the paper. */
  static final List<String[]> TUNED = List.of(
      new String[] {"resa", "scratch", "Resa: SAE from scratch on source (Resa-STILL-v3)"},
      new String[] {"resa-finetuned", "finetuned", "Resa, fine-tuned SAE (Resa-STILL-v1)"},
      new String[] {"resa-pretrained", "pretrained", "Resa, pre-trained SAE on base (Resa-STILL-v2)"},
      new String[] {"resa-self", "self", "Resa, base as its own source (Tina-0-step, v5)"},
      new String[] {"control-random", null, "control: random distortion matched on starting KL"});

  /** Every evaluated model in report order, with its route. */
  static final List<String[]> MODELS = List.of(
      new String[] {"base", "pretraining", "base (R1-Distill's role)"},
      new String[] {"source", "RL", "source: base + CoT-free GRPO (Tina's role)"},
      new String[] {"resa", "SAE-Tuning", TUNED.get(0)[2]},
      new String[] {"resa-finetuned", "SAE-Tuning", TUNED.get(1)[2]},
      new String[] {"resa-pretrained", "SAE-Tuning", TUNED.get(2)[2]},
      new String[] {"resa-self", "SAE-Tuning", TUNED.get(3)[2]},
      new String[] {"control-random", "control", TUNED.get(4)[2]},
      new String[] {"sft-cotfree", "SFT", "CoT-free SFT of base"},
      new String[] {"sft-cot", "SFT", "CoT SFT of base (correct traces)"});

  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();

  private final Preset p;
  private final long seed;
  private final Path dir;
  private final ArithmeticTask task;
  private final CharTokenizer tok;
  private final NDManager root;
  private final List<Problem> trainPool;
  private final List<Problem> test;
  private float[][] sourceActs;

  private Miniature(Preset preset, Path dir, long seed, NDManager root) {
    this.p = preset;
    this.seed = seed;
    this.dir = dir;
    this.task = new ArithmeticTask(preset.task());
    this.tok = ArithmeticTask.tokenizer();
    this.root = root;
    this.trainPool = task.problems(Split.TRAIN, 20_000, seed);
    this.test = task.problems(Split.TEST, preset.testProblems(), 0); // fixed: the same test set for every seed
  }

  /** Bumped whenever a stage's files change shape (2: SAEs in sparsify's layout); older caches are rebuilt, not misread. */
  private static final int CACHE_FORMAT = 2;

  /** The run directory of a preset and seed under {@code outRoot}. */
  public static Path runDir(Path outRoot, Preset preset, long seed) {
    return outRoot.resolve(preset.name() + "-s" + seed);
  }

  /** Runs (or loads) every stage and writes the report; returns the run's tables. */
  public static Result run(Preset preset, Path outRoot, boolean fresh, long seed) throws IOException {
    Djl.init();
    threads();
    Path dir = runDir(outRoot, preset, seed);
    Path stamp = dir.resolve("cache-format.txt");
    boolean current = Files.isRegularFile(stamp) && Files.readString(stamp).trim().equals(Integer.toString(CACHE_FORMAT));
    if (Files.exists(dir) && !fresh && !current) {
      System.err.println("miniature: " + dir + " was written by an older version of the pipeline; rebuilding it");
    }
    if (Files.exists(dir) && (fresh || !current)) deleteTree(dir);
    Files.createDirectories(dir);
    AtomicFiles.writeString(stamp, Integer.toString(CACHE_FORMAT));
    long t0 = System.nanoTime();
    try (NDManager root = Djl.newManager(Djl.defaultDevice())) {
      Miniature m = new Miniature(preset, dir, seed, root);
      m.all();
      Result r = Result.load(dir);
      double secs = (System.nanoTime() - t0) / 1e9;
      System.err.printf("miniature: %s done in %.1f s; report at %s%n", dir.getFileName(), secs, dir.resolve("report.md"));
      return r;
    }
  }

  /**
   * One SAE-Tuning run beside the main table (Table 5's generality, Table 6's layer sweep), on a run that
   * {@link #run} has finished: Stage I from scratch on {@code saeModel}'s residual stream after {@code layer} over
   * CoT-free trigger texts of {@code trigger}; Stage II of base with that SAE at that layer on the run's own CoT-free
   * elicitation data; the held-out evaluation. Cached under {@code <run>/experiments/<name>/} like every stage; a
   * directory made with other settings under the same name is rebuilt.
   *
   * @param name directory name under {@code experiments/} (distinct settings need distinct names).
   * @param saeModel the model whose activations train the SAE: {@code source} (Tina's role) or {@code base}.
   * @param layer the layer after which both stages hook, 0-indexed.
   * @param trigger the task whose CoT-free texts train the SAE (null: the run's own trigger set, in distribution).
   * @param saeSteps Stage-I steps (the preset's to compare with the main table).
   * @param tuneSteps Stage-II steps; 0 trains the SAE only (the last layer has no layer after it to adapt).
   */
  public record Experiment(String name, String saeModel, int layer, ArithmeticTask.Config trigger, int saeSteps, int tuneSteps) {
    public Experiment {
      if (!saeModel.equals("source") && !saeModel.equals("base")) {
        throw new IllegalArgumentException("saeModel must be source or base, got '" + saeModel + "'");
      }
      if (saeSteps <= 0 || tuneSteps < 0) throw new IllegalArgumentException("need saeSteps > 0 and tuneSteps >= 0");
    }

    /** Where its stages live inside a run directory. */
    public Path dir(Path runDir) {
      return runDir.resolve("experiments").resolve(name);
    }
  }

  /**
   * Runs (or loads) {@code e} on the finished run of {@code preset} and {@code seed}. Returns one row: name, layer,
   * Stage-I FVU on held-out source activations, starting and final KL of Stage II, and Pass@1 / greedy / think rate
   * on the run's held-out set (missing where {@code tuneSteps} is 0).
   */
  public static Table experiment(Preset preset, Path outRoot, long seed, Experiment e) throws IOException {
    Djl.init();
    threads();
    Path dir = runDir(outRoot, preset, seed);
    for (String stage : List.of("base", "source")) {
      if (!done(dir.resolve(stage))) throw new IllegalStateException(dir.resolve(stage) + " is not trained: call Miniature.run first");
    }
    int layers = ModelConfig.readHf(dir.resolve("base/config.json")).numLayers();
    if (e.layer() < 0 || e.layer() >= layers) throw new IllegalArgumentException("layer " + e.layer() + " outside 0.." + (layers - 1));
    if (e.tuneSteps() > 0 && e.layer() == layers - 1) {
      throw new IllegalArgumentException("layer " + e.layer() + " is the last: Stage II adapts the layers after the splice, and there are none");
    }
    Path ed = e.dir(dir);
    Path spec = ed.resolve("experiment.json");
    if (Files.exists(ed) && !(Files.isRegularFile(spec) && Files.readString(spec).equals(GSON.toJson(e)))) {
      System.err.println("miniature: " + ed + " holds another experiment's stages; rebuilding it");
      deleteTree(ed);
    }
    Files.createDirectories(ed);
    AtomicFiles.writeString(spec, GSON.toJson(e));
    try (NDManager root = Djl.newManager(Djl.defaultDevice())) {
      new Miniature(preset, dir, seed, root).experiment(e, ed);
    }
    Map<String, Double> sae = readStage(ed.resolve("sae"));
    Table t = Table.create(e.name(), StringColumn.create("experiment", List.of(e.name())), IntColumn.create("layer", new int[] {e.layer()}),
        DoubleColumn.create("fvu_heldout", sae.get("fvu_heldout_" + e.saeModel())));
    double[] tuned = {Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN};
    if (e.tuneSteps() > 0) {
      Map<String, Double> st = readStage(ed.resolve("tuned"));
      var score = GSON.fromJson(Files.readString(ed.resolve("eval.json")), com.google.gson.JsonObject.class).getAsJsonObject("score");
      tuned = new double[] {st.get("start_kl"), st.get("final_kl"), score.get("pass1").getAsDouble(), score.get("greedy").getAsDouble(),
          score.get("thinkRate").getAsDouble()};
    }
    String[] cols = {"start_kl", "final_kl", "pass1", "greedy", "think"};
    for (int i = 0; i < cols.length; i++) t.addColumns(DoubleColumn.create(cols[i], new double[] {tuned[i]}));
    return t;
  }

  private void experiment(Experiment e, Path ed) throws IOException {
    Path saeDir = ed.resolve("sae");
    if (!done(saeDir)) {
      banner("experiment " + e.name() + ": Stage I on " + e.saeModel() + ", layers." + e.layer());
      long t0 = System.nanoTime();
      List<String[]> texts = e.trigger() == null ? triggerTexts()
          : new ArithmeticTask(e.trigger()).problems(Split.TRAIN, p.saeTexts(), seed).stream().map(this::cotFree).toList();
      float[][] acts;
      try (DecoderLM lm = loadModel(dir.resolve(e.saeModel()))) {
        acts = Trainers.activations(lm, tok, texts, e.layer(), 256);
      }
      trainSae(saeDir, acts, SparseCoder.init(SparseCoderConfig.of(p.hidden(), p.saeLatents(), p.saeK()), root, 42), e.layer(), e.saeSteps(), t0);
    }
    if (e.tuneSteps() == 0) return;
    if (!done(ed.resolve("tuned"))) {
      banner("experiment " + e.name() + ": Stage II at layers." + e.layer());
      tune(ed.resolve("tuned"), saeDir, e.layer(), e.tuneSteps(), e.name());
    }
    evaluate(ed.resolve("tuned"), ed.resolve("eval.json"), e.name());
  }

  /**
   * One intra-op thread unless {@code RESA_THREADS} says otherwise: the miniature's matrices are so small that
   * PyTorch's thread pool costs more than it saves, and on a shared 2-core machine it oversubscribes the cores.
   */
  private static void threads() {
    String env = System.getenv("RESA_THREADS");
    ai.djl.engine.Engine.getInstance(); // loads the native library first
    ai.djl.pytorch.jni.JniUtils.setNumThreads(env == null ? 1 : Integer.parseInt(env.trim()));
  }

  private void all() throws IOException {
    AtomicFiles.writeString(dir.resolve("preset.json"), GSON.toJson(p));
    tok.save(dir.resolve("tokenizer.json"));
    base();
    source();
    for (String mode : List.of("pretrained", "scratch", "finetuned", "self")) sae(mode);
    for (String[] t : TUNED) tuned(t[0], t[1]);
    sft("sft-cotfree", false);
    sft("sft-cot", true);
    for (String[] m : MODELS) evaluate(m[0]);
    Report.write(dir, p, test.size());
  }

  // ---- data ----

  private String[] cotFree(Problem q) {
    return new String[] {ArithmeticTask.prompt(q), ArithmeticTask.cotFreeCompletion(q)};
  }

  private String[] traced(Problem q) {
    return new String[] {ArithmeticTask.prompt(q), ArithmeticTask.tracedCompletion(q)};
  }

  private Trainers.Texts mix(double traceShare, int batch) {
    return rng -> {
      List<String[]> out = new ArrayList<>(batch);
      for (int i = 0; i < batch; i++) {
        Problem q = trainPool.get(rng.nextInt(trainPool.size()));
        out.add(rng.nextDouble() < traceShare ? traced(q) : cotFree(q));
      }
      return out;
    };
  }

  private Trainers.Texts cotFreeData(int batch) {
    return mix(0, batch);
  }

  /** The trigger set: CoT-free texts of the first {@code saeTexts} pool problems (the SAE's and Stage II's data). */
  private List<String[]> triggerTexts() {
    return trainPool.subList(0, p.saeTexts()).stream().map(this::cotFree).toList();
  }

  /** Activation rows for held-out FVU: CoT-free texts of pool problems the SAEs never saw. */
  private List<String[]> heldOutTexts() {
    return trainPool.subList(p.saeTexts(), p.saeTexts() + 200).stream().map(this::cotFree).toList();
  }

  // ---- stages ----

  private void base() throws IOException {
    Path d = dir.resolve("base");
    if (done(d)) return;
    banner(String.format(Locale.ROOT, "base: pretraining on a %.0f/%.0f traced / answer-only mix", 100 * p.traceShare(), 100 * (1 - p.traceShare())));
    ModelConfig cfg = ModelConfig.tinyQwen2(tok.vocabSize(), p.hidden(), p.layers(), p.heads(), Math.max(1, p.heads() / 2),
        p.intermediate(), 96).withTokens(tok.bosId(), tok.eosId());
    long t0 = System.nanoTime();
    try (DecoderLM model = new DecoderLM(cfg, Weights.random(cfg, root.newSubManager(), seed, DataType.FLOAT32))) {
      List<Trainers.Row> log = Trainers.pretrain(model, tok, mix(p.traceShare(), p.baseBatch()), p.baseSteps(), p.baseLr(), seed, "base");
      saveModel(model, d);
      finish(d, log, t0, Map.of("flops", Costs.trainFlops(cfg, log, 3.0)));
    }
  }

  private void source() throws IOException {
    Path d = dir.resolve("source");
    if (done(d)) return;
    banner("source: CoT-free GRPO with LoRA on base, then merge");
    long t0 = System.nanoTime();
    try (DecoderLM model = loadModel(dir.resolve("base"))) {
      List<Trainers.Row> log = Trainers.grpo(model, tok, task, loraConfig(model, 0, seed + 1), p.rlSteps(), p.rlPrompts(), p.rlGroup(), p.rlTemperature(),
          p.rlLr(), p.rlKl(), p.maxNewTokens(), seed + 1);
      saveModel(model, d);
      finish(d, log, t0, Map.of("flops", Costs.grpoFlops(model.config(), log)));
    }
  }

  private float[][] sourceActs() throws IOException {
    if (sourceActs == null) {
      try (DecoderLM src = loadModel(dir.resolve("source"))) {
        sourceActs = Trainers.activations(src, tok, triggerTexts(), p.hookLayer(), 256);
      }
    }
    return sourceActs;
  }

  /**
   * Stage I in one of four modes: {@code scratch} (source model, trigger data, random init), {@code finetuned}
   * (same data, starting from the pre-trained SAE), {@code pretrained} (base model over its own pretraining mix,
   * used as is), {@code self} (base model, trigger data, random init: base as its own source).
   */
  private void sae(String mode) throws IOException {
    Path d = dir.resolve("sae").resolve(mode);
    if (done(d)) return;
    banner("Stage I: SAE (" + mode + ") on layers." + p.hookLayer());
    long t0 = System.nanoTime();
    float[][] acts;
    String model = mode.equals("pretrained") || mode.equals("self") ? "base" : "source";
    try (DecoderLM lm = loadModel(dir.resolve(model))) {
      List<String[]> texts = mode.equals("pretrained")
          ? mix(p.traceShare(), p.saeTexts()).apply(new Random(seed + 5))
          : triggerTexts();
      acts = mode.equals("scratch") || mode.equals("finetuned") ? sourceActs() : Trainers.activations(lm, tok, texts, p.hookLayer(), 256);
    }
    SparseCoder start = mode.equals("finetuned")
        ? SparsifyFormat.read(dir.resolve("sae/pretrained"), root) // fine-tuned: continue from the pre-trained SAE
        : SparseCoder.init(SparseCoderConfig.of(p.hidden(), p.saeLatents(), p.saeK()), root, 42);
    trainSae(d, acts, start, p.hookLayer(), p.saeSteps(), t0);
  }

  /**
   * Stage I proper: fits {@code start} to activation rows of layer {@code layer} for {@code steps} steps and writes
   * the SAE, its FVU / L0 / dead log, held-out FVU on base and source, and its latent density into {@code d}.
   */
  private void trainSae(Path d, float[][] acts, SparseCoder start, int layer, int steps, long t0) throws IOException {
    double captureFlops = Costs.captureFlops(ModelConfig.readHf(dir.resolve("base/config.json")), acts.length, layer);
    // Adam at lr 1e-3 (the trainer's ADAM option), not Resa's SignSGD + Schedule-Free: the presets' SAE step counts
    // were tuned with Adam at this lr, and SignSGD's automatic lr (5e-3 · sqrt(2^14 / n)) is sized for 65k-latent
    // SAEs over millions of tokens; the two have not been compared at this scale. Dead = silent for 50 batches.
    SaeTrainer.Config cfg = SaeTrainer.Config.resa().withOptimizer(SaeTrainer.Optimizer.ADAM).withLr(1e-3)
        .withDeadThreshold(50L * p.saeBatch());
    try (SaeTrainer trainer = new SaeTrainer(cfg, Map.of(HOOK, start));
        NDManager kept = root.newSubManager()) {
      Table history = trainer.fit(rowBatches(acts, p.saeBatch(), seed + 7), steps);
      SparseCoder sae = trainer.averaged(HOOK, kept);
      SparsifyFormat.write(d, sae);
      List<Trainers.Row> log = new ArrayList<>();
      for (int i = 0; i < history.rowCount(); i++) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("fvu", history.doubleColumn("fvu").get(i));
        m.put("l0", history.doubleColumn("l0").get(i));
        m.put("dead_pct", 100 * history.doubleColumn("dead_pct").get(i));
        log.add(new Trainers.Row(history.intColumn("step").get(i), m));
      }
      Map<String, Double> extra = new LinkedHashMap<>();
      extra.put("flops", captureFlops + Costs.saeFlops(p.hidden(), p.saeLatents(), (long) steps * p.saeBatch()));
      extra.put("activation_rows", (double) acts.length);
      for (String m : List.of("base", "source")) {
        try (DecoderLM lm = loadModel(dir.resolve(m))) {
          extra.put("fvu_heldout_" + m, reconstruction(sae, Trainers.activations(lm, tok, heldOutTexts(), layer, 256)).fvu());
        }
      }
      double[] density = reconstruction(sae, acts).density();
      AtomicFiles.writeString(d.resolve("density.json"), GSON.toJson(density));
      finish(d, log, t0, extra);
    }
  }

  /** The one hook the miniature's SAEs read (a key for {@link SaeTrainer}'s map). */
  private static final String HOOK = "residual";

  /** Endless batches of {@code batch} rows of {@code acts} drawn with replacement, seeded. */
  private Iterator<Map<String, NDArray>> rowBatches(float[][] acts, int batch, long rowSeed) {
    Random rng = new Random(rowSeed);
    int dd = acts[0].length;
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return true;
      }

      @Override
      public Map<String, NDArray> next() {
        float[] rows = new float[batch * dd];
        for (int i = 0; i < batch; i++) System.arraycopy(acts[rng.nextInt(acts.length)], 0, rows, i * dd, dd);
        return Map.of(HOOK, root.create(rows, new Shape(batch, dd))); // [N, d]; the trainer closes it
      }
    };
  }

  /** FVU, L0 and per-latent density of {@code sae} on activation rows [N][d], in one pass. */
  static SaeMetrics.Reconstruction reconstruction(SparseCoder sae, float[][] acts) {
    int dd = acts[0].length;
    float[] rows = new float[acts.length * dd];
    for (int i = 0; i < acts.length; i++) System.arraycopy(acts[i], 0, rows, i * dd, dd);
    NDArray x = sae.manager().create(rows, new Shape(acts.length, dd)); // [N, d]; closed by the metrics
    return SaeMetrics.reconstruction(sae, List.of(x).iterator());
  }

  /** Latent activations [T][m] of {@code sae} on one sequence of activations [T][d] (dense, zeros off the top k). */
  static float[][] codes(SparseCoder sae, float[][] acts) {
    int dd = acts[0].length, m = sae.config().numLatents(), k = sae.config().k();
    float[] rows = new float[acts.length * dd];
    for (int i = 0; i < acts.length; i++) System.arraycopy(acts[i], 0, rows, i * dd, dd);
    float[][] out = new float[acts.length][m];
    try (NDManager sm = sae.manager().newSubManager()) {
      SparseCoder.TopK top = sae.encode(sm.create(rows, new Shape(acts.length, dd))); // [T, k] each
      float[] v = top.values().toFloatArray();
      long[] idx = top.indices().toLongArray();
      for (int t = 0; t < acts.length; t++) for (int j = 0; j < k; j++) out[t][(int) idx[t * k + j]] = v[t * k + j];
    }
    return out;
  }

  private void tuned(String name, String saeMode) throws IOException {
    Path d = dir.resolve("tuned").resolve(name);
    if (done(d)) return;
    banner("Stage II: " + name);
    tune(d, saeMode == null ? null : dir.resolve("sae").resolve(saeMode), p.hookLayer(), p.tuneSteps(), name);
  }

  /**
   * Stage II proper: SAE-Tuning of base with the SAE in {@code saeDir} spliced in after layer {@code layer} (null:
   * the random-distortion control, matched on the from-scratch SAE's starting KL); writes the merged model into
   * {@code d}.
   */
  private void tune(Path d, Path saeDir, int layer, int steps, String name) throws IOException {
    long t0 = System.nanoTime();
    List<String[]> klBatch = cotFreeData(64).apply(new Random(seed + 11));
    try (DecoderLM model = loadModel(dir.resolve("base"));
        SparseCoder sae = SparsifyFormat.read(saeDir == null ? dir.resolve("sae/scratch") : saeDir, root);
        NDManager splices = root.newSubManager()) {
      UnaryOperator<NDArray> splice = sae::reconstruct;
      if (saeDir == null) {
        double target = Trainers.spliceKl(model, tok, klBatch, layer, splice);
        splice = randomDistortion(model, splices, target, klBatch);
      }
      double startKl = Trainers.spliceKl(model, tok, klBatch, layer, splice);
      List<Trainers.Row> log = Trainers.saeTune(model, tok, cotFreeData(p.tuneBatch()), layer, splice,
          loraConfig(model, layer + 1, seed + 3), steps, p.tuneLr(), seed + 3, "SAE-Tuning " + name);
      saveModel(model, d);
      Map<String, Double> extra = new LinkedHashMap<>();
      extra.put("flops", Costs.saeTuneFlops(model.config(), log, layer));
      extra.put("start_kl", startKl);
      extra.put("final_kl", log.get(log.size() - 1).metrics().get("kl"));
      finish(d, log, t0, extra);
    }
  }

  /**
   * The control splice {@code h + s (h - mu) M}, M Gaussian [D, D] / sqrt(D), with the scale s bisected so the
   * splice's starting KL on the plain base matches {@code targetKl} (the source SAE's): same disruption, no SAE.
   */
  private UnaryOperator<NDArray> randomDistortion(DecoderLM model, NDManager m, double targetKl, List<String[]> batch) throws IOException {
    int dd = p.hidden();
    Random rng = new Random(seed + 13);
    float[] w = new float[dd * dd];
    for (int i = 0; i < w.length; i++) w[i] = (float) (rng.nextGaussian() / Math.sqrt(dd));
    NDArray mat = m.create(w, new Shape(dd, dd)); // [D, D]
    float[][] acts = Trainers.activations(model, tok, triggerTexts().subList(0, Math.min(200, p.saeTexts())), p.hookLayer(), 256);
    float[] mean = new float[dd];
    for (float[] a : acts) for (int j = 0; j < dd; j++) mean[j] += a[j] / acts.length;
    NDArray mu = m.create(mean); // [D]
    double lo = 0, hi = 4;
    for (int it = 0; it < 18; it++) {
      double s = (lo + hi) / 2;
      double kl = Trainers.spliceKl(model, tok, batch, p.hookLayer(), distortion(mat, mu, s));
      if (kl < targetKl) lo = s;
      else hi = s;
    }
    return distortion(mat, mu, (lo + hi) / 2);
  }

  private static UnaryOperator<NDArray> distortion(NDArray mat, NDArray mu, double s) {
    return h -> h.add(h.sub(mu).matMul(mat).mul(s)); // [B, T, D]
  }

  /**
   * The preset's LoRA on all seven projections of layers {@code fromLayer..}, owned by {@code model}'s manager.
   * No dropout: at this scale the adapter is the only thing learning, and the stand-in it replaced had none.
   */
  private LoraConfig loraConfig(DecoderLM model, int fromLayer, long loraSeed) {
    return new LoraConfig(p.loraRank(), p.loraAlpha(), 0.0, LoraConfig.ALL_TARGETS,
        LoraConfig.layersFrom(fromLayer, model.config().numLayers()), loraSeed);
  }

  private void sft(String name, boolean withTraces) throws IOException {
    Path d = dir.resolve("tuned").resolve(name);
    if (done(d)) return;
    banner("SFT baseline: " + name);
    long t0 = System.nanoTime();
    try (DecoderLM model = loadModel(dir.resolve("base"))) {
      List<Trainers.Row> log = Trainers.sft(model, tok, mix(withTraces ? 1 : 0, p.tuneBatch()), loraConfig(model, 0, seed + 4),
          p.tuneSteps(), p.tuneLr(), seed + 4, "SFT " + name);
      saveModel(model, d);
      finish(d, log, t0, Map.of("flops", Costs.trainFlops(model.config(), log, 3.0)));
    }
  }

  private void evaluate(String name) throws IOException {
    Path md = name.equals("base") || name.equals("source") ? dir.resolve(name) : dir.resolve("tuned").resolve(name);
    evaluate(md, dir.resolve("eval").resolve(name + ".json"), name);
  }

  /** Scores the model in {@code modelDir} on the held-out problems into {@code f} (skipped when {@code f} exists). */
  private void evaluate(Path modelDir, Path f, String name) throws IOException {
    if (Files.exists(f)) return;
    long t0 = System.nanoTime();
    try (DecoderLM model = loadModel(modelDir)) {
      Evaluation.Score s = Evaluation.evaluate(model, tok, test, p.samples(), p.maxNewTokens(), 1234, "eval " + name);
      Map<String, Object> j = new LinkedHashMap<>();
      j.put("score", s);
      j.put("wall_s", (System.nanoTime() - t0) / 1e9);
      Files.createDirectories(f.getParent());
      AtomicFiles.writeString(f, GSON.toJson(j));
    }
  }

  // ---- persistence ----

  private static boolean done(Path stageDir) {
    return Files.isRegularFile(stageDir.resolve("stage.json"));
  }

  private static void banner(String s) {
    System.err.println("== " + s);
  }

  /** Writes the step log as CSV and {@code stage.json} (wall time + extras) last, which marks the stage done. */
  private static void finish(Path d, List<Trainers.Row> log, long t0, Map<String, Double> extra) throws IOException {
    Files.createDirectories(d);
    Table t = logTable(log);
    AtomicFiles.write(d.resolve("train.csv"), out -> t.write().csv(new java.io.OutputStreamWriter(out, java.nio.charset.StandardCharsets.UTF_8)));
    Map<String, Double> meta = new LinkedHashMap<>();
    meta.put("wall_s", (System.nanoTime() - t0) / 1e9);
    meta.put("steps", (double) log.size());
    meta.putAll(extra);
    AtomicFiles.writeString(d.resolve("stage.json"), GSON.toJson(meta));
  }

  static Table logTable(List<Trainers.Row> log) {
    Table t = Table.create("log");
    IntColumn step = IntColumn.create("step");
    t.addColumns(step);
    if (log.isEmpty()) return t;
    for (String k : log.get(0).metrics().keySet()) t.addColumns(DoubleColumn.create(k));
    for (Trainers.Row r : log) {
      step.append(r.step());
      for (String k : log.get(0).metrics().keySet()) t.doubleColumn(k).append(r.metrics().getOrDefault(k, Double.NaN));
    }
    return t;
  }

  static Map<String, Double> readStage(Path stageDir) throws IOException {
    return GSON.fromJson(Files.readString(stageDir.resolve("stage.json")), new TypeToken<Map<String, Double>>() {}.getType());
  }

  /** Saves a model as a HF-style folder ({@code config.json} + {@code model.safetensors}). */
  public static void saveModel(DecoderLM model, Path d) throws IOException {
    Files.createDirectories(d);
    AtomicFiles.writeString(d.resolve("config.json"), model.config().toHfJson());
    SafeTensors.write(d.resolve("model.safetensors"), model.weights().asMap());
  }

  /** Loads a folder written by {@link #saveModel} into its own manager under {@code parent}. */
  public static DecoderLM loadModel(Path d, NDManager parent) throws IOException {
    ModelConfig cfg = ModelConfig.readHf(d.resolve("config.json"));
    Weights w = new Weights(parent.newSubManager());
    try (SafeTensors.Reader r = SafeTensors.open(d.resolve("model.safetensors"))) {
      for (String name : Weights.names(cfg)) {
        if (!r.contains(name)) throw new IOException(d.resolve("model.safetensors") + ": missing tensor '" + name + "'");
        w.put(name, r.read(w.manager(), name));
      }
    }
    return new DecoderLM(cfg, w);
  }

  /** Scores any model of this task on the preset's held-out problems: a one-row table (model, pass1, greedy, think). */
  public static Table evaluateModel(DecoderLM model, Preset p, String name) {
    List<Problem> test = new ArithmeticTask(p.task()).problems(Split.TEST, p.testProblems(), 0);
    Evaluation.Score s = Evaluation.evaluate(model, ArithmeticTask.tokenizer(), test, p.samples(), p.maxNewTokens(), 1234, "eval " + name);
    return Table.create("scores", StringColumn.create("model", List.of(name)), DoubleColumn.create("pass1", s.pass1()),
        DoubleColumn.create("greedy", s.greedy()), DoubleColumn.create("think", s.thinkRate()));
  }

  private DecoderLM loadModel(Path d) throws IOException {
    return loadModel(d, root);
  }

  private static void deleteTree(Path d) throws IOException {
    try (Stream<Path> s = Files.walk(d)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** A finished run's tables, read back from its directory (what notebooks use). */
  public record Result(Path dir, Table scores, Table costs, Table saes, String report) {
    public static Result load(Path dir) throws IOException {
      return new Result(dir,
          Table.read().csv(dir.resolve("scores.csv").toString()),
          Table.read().csv(dir.resolve("costs.csv").toString()),
          Table.read().csv(dir.resolve("saes.csv").toString()),
          Files.readString(dir.resolve("report.md")));
    }

    /** The step log of a stage: {@code base}, {@code source}, {@code sae/scratch}, {@code tuned/resa}, ... */
    public Table log(String stage) throws IOException {
      return Table.read().csv(dir.resolve(stage).resolve("train.csv").toString()).setName(stage);
    }

    /** The preset the run was made with. */
    public Preset preset() throws IOException {
      return GSON.fromJson(Files.readString(dir.resolve("preset.json")), Preset.class);
    }

    /** One text's tokens and the SAE latent activations on them ({@code acts[token][latent]}). */
    public record FeatureActivations(List<String> tokens, float[][] acts) {}

    /**
     * Latent activations of the Stage-I SAE {@code saeMode} on {@code model}'s residual stream at the hook layer,
     * over {@code <bos> prompt completion} (feature cards, Figure 3's reasoning features).
     */
    public FeatureActivations featureActivations(String saeMode, String model, String prompt, String completion) throws IOException {
      Preset p = preset();
      CharTokenizer tok = ArithmeticTask.tokenizer();
      try (NDManager m = Djl.newManager(Djl.defaultDevice());
          DecoderLM lm = loadModel(dir.resolve(model), m);
          SparseCoder sae = SparsifyFormat.read(dir.resolve("sae").resolve(saeMode), m)) {
        List<String[]> one = List.<String[]>of(new String[] {prompt, completion});
        float[][] h = Trainers.activations(lm, tok, one, p.hookLayer(), 1); // [T][D]
        int[] ids = Trainers.withBos(tok, prompt + completion);
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < h.length; i++) tokens.add(tok.decode(new int[] {ids[i]}).replace("\n", "\\n"));
        return new FeatureActivations(tokens, codes(sae, h));
      }
    }

    /** Per-latent firing frequency of a Stage-I SAE on its training activations. */
    public double[] density(String saeMode) throws IOException {
      return GSON.fromJson(Files.readString(dir.resolve("sae").resolve(saeMode).resolve("density.json")), double[].class);
    }
  }

  /** Column helper for the report. */
  static StringColumn strings(String name, List<String> values) {
    return StringColumn.create(name, values);
  }
}
