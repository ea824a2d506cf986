package dev.resa.tuning;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.resa.model.DecoderLM;
import dev.resa.model.Hooks;
import dev.resa.train.AdamW;
import dev.resa.train.Gradients;
import dev.resa.train.Losses;
import dev.resa.train.LrSchedule;
import dev.resa.train.Progress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import tech.tablesaw.api.Table;
import dev.resa.core.Scalars;

/**
 * Stage II of Resa, SAE-guided SFT ("reasoning ability elicitation"), as {@code scripts/train/sae_tuning.py} does it:
 *
 * <pre>
 *   teacher  p_T = softmax(model(x))                       adapters off, no SAE, no gradient
 *   student  q_S = softmax(model_LoRA(x) with h_ℓ ← SAE(h_ℓ))   the splice REPLACES layer ℓ's output, under no_grad
 *   loss     KL(p_T ‖ q_S) = Σ_{t,v} p_T (log p_T − log q_S) / B       no CE, no masking, summed over positions
 * </pre>
 *
 * Because the splice is detached, LoRA in layers 0..ℓ gets exactly zero gradient, and with B = 0 at init its
 * update stays zero. So the <b>prefix shortcut</b> is exact: run embed + layers 0..ℓ once (frozen, no adapter),
 * feed h_ℓ to the teacher suffix and SAE(h_ℓ) to the student suffix, and put LoRA on layers ℓ+1.. only.
 * {@link Config#prefixShortcut} switches between the two; the tests show they agree.
 */
public final class SaeTuning implements AutoCloseable {
  /** Learning-rate schedules: Resa's code uses none (constant); the paper's Table 7 says cosine with a floor. */
  public enum Schedule { CONSTANT, COSINE }

  /**
   * @param layer ℓ, the decoder layer whose output the SAE replaces (Resa: 12 of 28 for R1-Distill-1.5B).
   * @param lora adapter shape; default r 32, alpha 128, dropout 0.05 on all seven projections (Resa's recipe).
   * @param lr peak learning rate; default 1e-6 (Resa's recipe, not config.py's 5e-5).
   * @param weightDecay AdamW decoupled decay; default 0.01 (torch's AdamW default, which Resa keeps).
   * @param clipNorm global gradient-norm clip; default 1.0 (DeepSpeed "auto" resolves to the HF default 1.0).
   * @param epochs passes over the elicitation chunks; default 2 (Resa's recipe).
   * @param batchSize chunks per optimizer step; default 2 (1 chunk on each of Resa's 2 GPUs, gradients averaged
   *     by rank = batchmean over 2).
   * @param schedule learning-rate schedule; default constant (the code), cosine available (the paper).
   * @param warmupSteps linear warm-up steps for the cosine schedule; default 0.
   * @param prefixShortcut run layers 0..ℓ once and adapt only ℓ+1..; default true (exactly equivalent, faster).
   * @param saveEvery steps between PEFT adapter checkpoints; default 500 (Resa's recipe), 0 disables them.
   * @param outDir where checkpoints, the final adapter and the training table go, or null to keep nothing.
   * @param baseModelName written into adapter_config.json as base_model_name_or_path.
   */
  public record Config(int layer, LoraConfig lora, double lr, double weightDecay, double clipNorm, int epochs,
                       int batchSize, Schedule schedule, int warmupSteps, boolean prefixShortcut, int saveEvery,
                       Path outDir, String baseModelName) {
    public Config {
      if (epochs <= 0 || batchSize <= 0) throw new IllegalArgumentException("epochs and batchSize must be positive");
      if (!(lr > 0)) throw new IllegalArgumentException("lr must be positive, got " + lr);
    }

    /** Resa's recipe at splice layer {@code layer}. */
    public static Config resa(int layer) {
      return new Config(layer, LoraConfig.resa(), 1e-6, 0.01, 1.0, 2, 2, Schedule.CONSTANT, 0, true, 500, null, "");
    }

    public Config withLr(double v) {
      return new Config(layer, lora, v, weightDecay, clipNorm, epochs, batchSize, schedule, warmupSteps, prefixShortcut, saveEvery, outDir, baseModelName);
    }

    public Config withEpochs(int v) {
      return new Config(layer, lora, lr, weightDecay, clipNorm, v, batchSize, schedule, warmupSteps, prefixShortcut, saveEvery, outDir, baseModelName);
    }

    public Config withBatchSize(int v) {
      return new Config(layer, lora, lr, weightDecay, clipNorm, epochs, v, schedule, warmupSteps, prefixShortcut, saveEvery, outDir, baseModelName);
    }

    public Config withLora(LoraConfig v) {
      return new Config(layer, v, lr, weightDecay, clipNorm, epochs, batchSize, schedule, warmupSteps, prefixShortcut, saveEvery, outDir, baseModelName);
    }

    public Config withPrefixShortcut(boolean v) {
      return new Config(layer, lora, lr, weightDecay, clipNorm, epochs, batchSize, schedule, warmupSteps, v, saveEvery, outDir, baseModelName);
    }

    public Config withSchedule(Schedule v, int warmup) {
      return new Config(layer, lora, lr, weightDecay, clipNorm, epochs, batchSize, v, warmup, prefixShortcut, saveEvery, outDir, baseModelName);
    }

    public Config withOutput(Path dir, int every, String baseName) {
      return new Config(layer, lora, lr, weightDecay, clipNorm, epochs, batchSize, schedule, warmupSteps, prefixShortcut, every, dir, baseName);
    }
  }

  /** One batch's measurements: the loss and the splice's reconstruction error on the teacher's h_ℓ. */
  public record Measured(double kl, double fvu, double mse) {}

  /** What a run returns: the training table, KL at the first and last step, and the final adapter's folder. */
  public record Result(Table log, double firstKl, double lastKl, long steps, Path adapterDir) {}

  private final DecoderLM model;
  private final Splice sae;
  private final Config config;
  private final Lora lora;
  private final TrainingLog log = new TrainingLog("sae-tuning", "kl", "fvu", "mse");

  /**
   * Creates the adapter and installs it on {@code model} (replacing any other adapter). LoRA goes on layers
   * ℓ+1.. with the shortcut, or on the configured layers (all by default) in the naive version.
   */
  public SaeTuning(DecoderLM model, Splice sae, Config config) {
    int layers = model.config().numLayers();
    if (config.layer() < 0 || config.layer() >= layers) {
      throw new IllegalArgumentException("splice layer " + config.layer() + " out of range: the model has layers 0.." + (layers - 1));
    }
    if (sae.dIn() != model.config().hiddenSize()) {
      throw new IllegalArgumentException("SAE d_in = " + sae.dIn() + " but the model's hidden size is "
          + model.config().hiddenSize() + ": an SAE for layers." + config.layer() + " must read the residual stream");
    }
    this.model = model;
    this.sae = sae;
    this.config = config;
    LoraConfig lc = config.lora();
    if (config.prefixShortcut()) {
      Set<Integer> suffix = LoraConfig.layersFrom(config.layer() + 1, layers);
      if (lc.layers() != null) suffix.retainAll(lc.layers());
      lc = lc.withLayers(new LinkedHashSet<>(suffix));
    }
    DataType dtype = model.weights().get("model.embed_tokens.weight").getDataType();
    this.lora = Lora.create(lc, model.config(), model.manager(), dtype).attachTo(model);
  }

  public Lora adapter() {
    return lora;
  }

  public Config config() {
    return config;
  }

  public Table log() {
    return log.table();
  }

  /**
   * Forward and backward of one batch of token chunks [B, T]; gradients accumulate into the adapter (the caller
   * zeroes them). Works inside the caller's {@link DecoderLM#stepScope()}.
   */
  public Measured backward(NDArray tokens) {
    return backward(tokens, null);
  }

  /**
   * {@link #backward(NDArray)} for right-padded batches: {@code valid} [B, T] (1 = real token, 0 = pad) weights each
   * position's KL, so the loss is {@code Σ valid · KL / B} and pads contribute nothing; null means every position
   * counts (packed chunks, as Resa). Right padding keeps real tokens' causal context free of pads.
   */
  public Measured backward(NDArray tokens, NDArray valid) {
    long batch = tokens.getShape().get(0);
    int l = config.layer();
    AtomicReference<NDArray> captured = new AtomicReference<>();
    int last = model.config().numLayers() - 1;
    NDArray teacher; // [B, T, D], final residual (the logits are made in chunks by the loss)
    NDArray hHat = null; // [B, T, D], the shortcut's student input
    try (AutoCloseable off = model.disableAdapter()) {
      if (config.prefixShortcut()) {
        NDArray h = model.forward(tokens, new DecoderLM.Options().stopAfter(l)).hidden(); // [B, T, D]
        captured.set(h);
        hHat = splice(h);
        teacher = model.resume(h, l + 1, new DecoderLM.Options().stopAfter(last)).hidden();
      } else {
        Hooks read = Hooks.create().read("layers." + l, captured::set);
        teacher = model.forward(tokens, new DecoderLM.Options().hooks(read).stopAfter(last)).hidden();
      }
    } catch (Exception e) {
      throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
    }
    NDArray loss;
    lora.train(true);
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray student; // [B, T, D], final residual
      if (config.prefixShortcut()) {
        student = model.resume(hHat, l + 1, new DecoderLM.Options().stopAfter(last)).hidden();
      } else {
        Hooks splice = Hooks.create().replace("layers." + l, this::splice, true);
        student = model.forward(tokens, new DecoderLM.Options().hooks(splice).stopAfter(last)).hidden();
      }
      long d = model.config().hiddenSize();
      NDArray kl = Losses.klChunked(model.finalNorm(teacher).reshape(-1, d), model.finalNorm(student).reshape(-1, d), // [B·T, D]
          model.headWeight(), valid == null ? null : valid.reshape(-1), LOSS_CHUNK_ROWS); // Σ valid · KL, [chunk, V] at a time
      loss = kl.mul(Scalars.of(student, 1.0 / batch));
      gc.backward(loss);
    } finally {
      lora.train(false);
    }
    NDArray h = captured.get();
    NDArray err = (hHat != null ? hHat : splice(h)).sub(h); // [B, T, D]
    double sq = scalar(err.square().sum());
    NDArray centred = h.sub(h.reshape(-1, h.getShape().get(2)).mean(new int[] {0})); // [B, T, D]
    double var = scalar(centred.square().sum());
    return new Measured(scalar(loss), sq / Math.max(var, 1e-30), sq / h.size());
  }

  /** Positions per chunk of the Stage-II loss: 256 × 151,936 fp32 logits are 156 MB, so a chunk costs ~1.2 GB. */
  static final int LOSS_CHUNK_ROWS = 256;

  static double scalar(NDArray a) {
    return a.toType(DataType.FLOAT64, false).getDouble();
  }

  /** SAE(h) on [B, T, D] through the [N, D] interface. */
  private NDArray splice(NDArray h) {
    Shape s = h.getShape();
    return sae.reconstruct(h.reshape(-1, s.get(2))).reshape(s); // [B, T, D]
  }

  /** Trains on packed chunks (all of one length) for {@link Config#epochs} epochs; checkpoints as configured. */
  public Result train(List<int[]> chunks) throws IOException {
    if (chunks.isEmpty()) throw new IllegalArgumentException("no elicitation chunks to train on");
    int t = chunks.get(0).length;
    for (int i = 0; i < chunks.size(); i++) {
      int[] c = chunks.get(i);
      if (c.length != t) throw new IllegalArgumentException("chunk " + i + " has " + c.length + " tokens, chunk 0 has " + t);
      for (int tok : c) {
        if (tok < 0 || tok >= model.config().vocabSize()) {
          throw new IllegalArgumentException("chunk " + i + " has token id " + tok + " outside the vocabulary 0.." + (model.config().vocabSize() - 1));
        }
      }
    }
    long perEpoch = (chunks.size() + config.batchSize() - 1) / config.batchSize();
    long total = perEpoch * config.epochs();
    LrSchedule schedule = config.schedule() == Schedule.CONSTANT ? LrSchedule.constant(config.lr())
        : LrSchedule.cosine(config.lr(), 0.1 * config.lr(), config.warmupSteps(), total);
    List<NDArray> params = lora.parameters();
    double first = Double.NaN, last = Double.NaN;
    long step = 0;
    long start = System.nanoTime();
    try (AdamW adamw = new AdamW(new AdamW.Config(config.lr(), 0.9, 0.999, 1e-8, config.weightDecay()), lora.manager());
         Progress.Bar bar = Progress.start("Stage II (SAE-Tuning, layer " + config.layer() + ")", total)) {
      for (int epoch = 0; epoch < config.epochs(); epoch++) {
        for (int b = 0; b < chunks.size(); b += config.batchSize()) {
          Progress.checkInterrupted();
          List<int[]> batch = chunks.subList(b, Math.min(chunks.size(), b + config.batchSize()));
          double lr = schedule.at(step);
          Measured m;
          double gradNorm;
          try (NDManager scope = model.stepScope()) {
            for (NDArray p : sae.parameters()) p.tempAttach(scope);
            m = backward(tokens(scope, batch));
            gradNorm = Gradients.clipGlobalNorm(params, config.clipNorm());
            adamw.step(params, lr);
          }
          step++;
          if (step == 1) first = m.kl();
          last = m.kl();
          log.add(step, epoch, lr, gradNorm, (System.nanoTime() - start) / 1e9, m.kl(), m.fvu(), m.mse());
          bar.update(step, metrics(m));
          if (config.outDir() != null && config.saveEvery() > 0 && step % config.saveEvery() == 0) {
            lora.save(config.outDir().resolve("checkpoint-" + step), config.baseModelName());
            log.save(config.outDir().resolve("training.csv"));
          }
        }
      }
    }
    Path adapterDir = null;
    if (config.outDir() != null) {
      adapterDir = config.outDir().resolve("adapter");
      lora.save(adapterDir, config.baseModelName());
      log.save(config.outDir().resolve("training.csv"));
    }
    return new Result(log.table(), first, last, step, adapterDir);
  }

  private static Map<String, Double> metrics(Measured m) {
    Map<String, Double> out = new LinkedHashMap<>();
    out.put("kl", m.kl());
    out.put("fvu", m.fvu());
    return out;
  }

  /** A batch of equal-length chunks as int64 [B, T] in {@code scope}. */
  static NDArray tokens(NDManager scope, List<int[]> rows) {
    int t = rows.get(0).length;
    long[] flat = new long[rows.size() * t];
    for (int r = 0; r < rows.size(); r++) {
      for (int i = 0; i < t; i++) flat[r * t + i] = rows.get(r)[i];
    }
    return scope.create(flat, new Shape(rows.size(), t)); // [B, T]
  }

  /**
   * After training, as {@code merge_sae_tuned_models.py}: merge the adapter into a copy of the base weights, drop
   * the SAE (it is not part of the model), and write a plain HF model folder. The in-memory model is unchanged.
   */
  public void saveMerged(Path dir) throws IOException {
    MergedModel.save(model, lora, dir);
  }

  /** Removes the adapter from the model and frees it. */
  @Override
  public void close() {
    if (model.adapter() == lora) model.setAdapter(null);
    lora.close();
  }
}
