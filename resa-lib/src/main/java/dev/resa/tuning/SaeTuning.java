package dev.resa.tuning;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.resa.model.DecoderLM;
import dev.resa.model.Hooks;
import dev.resa.train.Losses;
import dev.resa.train.Batches;
import dev.resa.train.TokenBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
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
  /**
   * @param layer ℓ, the decoder layer whose output the SAE replaces (Resa: 12 of 28 for R1-Distill-1.5B).
   * @param lora adapter shape; default r 32, alpha 128, dropout 0.05 on all seven projections (Resa's recipe).
   * @param epochs passes over the elicitation chunks; default 2 (Resa's recipe).
   * @param batchSize chunks per optimizer step; default 2 (1 chunk on each of Resa's 2 GPUs, gradients averaged
   *     by rank = batchmean over 2).
   * @param prefixShortcut run layers 0..ℓ once and adapt only ℓ+1..; default true (exactly equivalent, faster).
   * @param train the loop: lr 1e-6 (Resa's recipe, not config.py's 5e-5), constant, AdamW decay 0.01, clip 1.0,
   *     a PEFT checkpoint every 500 steps (Resa's recipe).
   */
  public record Config(int layer, LoraConfig lora, int epochs, int batchSize, boolean prefixShortcut, LoraTrainer.Config train) {
    public Config {
      if (epochs <= 0 || batchSize <= 0) throw new IllegalArgumentException("epochs and batchSize must be positive");
    }

    /** Resa's recipe at splice layer {@code layer}. */
    public static Config resa(int layer) {
      return new Config(layer, LoraConfig.resa(), 2, 2, true, LoraTrainer.Config.of(1e-6));
    }

    public Config withLr(double v) {
      return withTrain(train.withLr(v));
    }

    public Config withEpochs(int v) {
      return new Config(layer, lora, v, batchSize, prefixShortcut, train);
    }

    public Config withBatchSize(int v) {
      return new Config(layer, lora, epochs, v, prefixShortcut, train);
    }

    public Config withLora(LoraConfig v) {
      return new Config(layer, v, epochs, batchSize, prefixShortcut, train);
    }

    public Config withPrefixShortcut(boolean v) {
      return new Config(layer, lora, epochs, batchSize, v, train);
    }

    /** Cosine after a warm-up of {@code warmup} of the steps down to a tenth (the paper), or constant (the code). */
    public Config withSchedule(LoraTrainer.Schedule v, double warmup) {
      return withTrain(train.withSchedule(v, warmup, 0.1));
    }

    public Config withOutput(Path dir, int every, String baseName) {
      return withTrain(train.withOutput(dir, every, baseName));
    }

    public Config withTrain(LoraTrainer.Config v) {
      return new Config(layer, lora, epochs, batchSize, prefixShortcut, v);
    }
  }

  /** One batch's measurements: the loss and the splice's reconstruction error on the teacher's h_ℓ. */
  public record Measured(double kl, double fvu, double mse) {}


  private final DecoderLM model;
  private final Splice sae;
  private final Config config;
  private final Lora lora;
  private final LoraTrainer trainer;

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
    this.trainer = new LoraTrainer(model, lora, config.train(), "Stage II (SAE-Tuning, layer " + config.layer() + ")");
  }

  public Lora adapter() {
    return lora;
  }

  public Config config() {
    return config;
  }

  /** The training loop (its live log, a per-step listener). */
  public LoraTrainer trainer() {
    return trainer;
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
  public LoraTrainer.Result train(List<int[]> chunks) throws IOException {
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
    return train(Batches.packed(chunks, config.batchSize()), Batches.stepsPerEpoch(chunks.size(), config.batchSize()) * config.epochs());
  }

  /**
   * Trains for {@code steps} steps on {@code data}; padded batches mask pads out of the KL. The log's {@code loss} is
   * Resa's {@code Σ KL / B}; {@code kl_token} is the mean KL per real token, comparable across sequence lengths.
   */
  public LoraTrainer.Result train(Batches data, long steps) throws IOException {
    return trainer.run((step, scope) -> {
      for (NDArray p : sae.parameters()) p.tempAttach(scope);
      TokenBatch b = data.at(step, scope);
      Measured m = backward(b.tokens(), b.valid());
      long tokens = b.realTokens();
      Map<String, Double> metrics = new LinkedHashMap<>();
      metrics.put("kl_token", m.kl() * b.tokens().getShape().get(0) / tokens);
      metrics.put("fvu", m.fvu());
      metrics.put("mse", m.mse());
      return new LoraTrainer.Step(m.kl(), tokens, metrics);
    }, steps);
  }

  /** A batch of equal-length chunks as int64 [B, T] in {@code scope}. */
  static NDArray tokens(NDManager scope, List<int[]> rows) {
    return TokenBatch.packed(scope, rows).tokens(); // [B, T]
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
