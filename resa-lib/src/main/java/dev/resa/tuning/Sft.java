package dev.resa.tuning;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.resa.model.DecoderLM;
import dev.resa.train.Batches;
import dev.resa.train.Losses;
import dev.resa.train.TokenBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The SFT baselines of Resa's Table 3 ({@code resa/post_train_hf/sft.py}): LoRA trained with next-token
 * cross-entropy. CoT-free SFT and CoT SFT differ only in the text: {@link #format} with or without the reasoning
 * trace. The loop (schedule, clip, AdamW, checkpoints, resume, non-finite guard) is {@link LoraTrainer}'s.
 */
public final class Sft implements AutoCloseable {
  /**
   * @param lora adapter shape; default r 32, alpha 128, dropout 0.05 on all seven projections (Resa's SFT recipe).
   * @param epochs passes over the chunks; default 3 (Resa's SFT recipe).
   * @param batchSize chunks per optimizer step; default 16 (STILL recipe's per-device batch).
   * @param train the loop: lr 1e-5 (Resa's SFT recipe), cosine to 0 after 5% warm-up (recipe), no weight decay (HF
   *     Trainer default), clip 1.0, a checkpoint every 500 steps.
   */
  public record Config(LoraConfig lora, int epochs, int batchSize, LoraTrainer.Config train) {
    public Config {
      if (epochs <= 0 || batchSize <= 0) throw new IllegalArgumentException("epochs and batchSize must be positive");
    }

    public static Config resa() {
      return new Config(LoraConfig.resa(), 3, 16, LoraTrainer.Config.of(1e-5).withSchedule(LoraTrainer.Schedule.COSINE, 0.05, 0).withWeightDecay(0));
    }

    public Config withLora(LoraConfig v) {
      return new Config(v, epochs, batchSize, train);
    }

    public Config withLr(double v) {
      return withTrain(train.withLr(v));
    }

    public Config withEpochs(int v) {
      return new Config(lora, v, batchSize, train);
    }

    public Config withBatchSize(int v) {
      return new Config(lora, epochs, v, train);
    }

    public Config withOutput(Path dir, int every, String baseName) {
      return withTrain(train.withOutput(dir, every, baseName));
    }

    public Config withTrain(LoraTrainer.Config v) {
      return new Config(lora, epochs, batchSize, v);
    }
  }

  /** Resa's SFT text: {@code think: \n{trace or answer}\n answer: {answer}} after the question. */
  public static String format(String question, String trace, String answer, boolean cotFree) {
    return question + "\nthink: \n" + (cotFree || trace == null ? answer : trace) + "\n answer: " + answer;
  }

  private final DecoderLM model;
  private final Config config;
  private final Lora lora;
  private final LoraTrainer trainer;

  public Sft(DecoderLM model, Config config) {
    this.model = model;
    this.config = config;
    DataType dtype = model.weights().get("model.embed_tokens.weight").getDataType();
    this.lora = Lora.create(config.lora(), model.config(), model.manager(), dtype).attachTo(model);
    this.trainer = new LoraTrainer(model, lora, config.train(), "SFT (LoRA, cross-entropy)");
  }

  public Lora adapter() {
    return lora;
  }

  /** The training loop (its live log, a per-step listener). */
  public LoraTrainer trainer() {
    return trainer;
  }

  /**
   * One forward and backward: mean cross-entropy of {@code targets} [B, T] given {@code inputs} [B, T] over the
   * positions where {@code mask} [B, T] is 1 (null = all), with adapter dropout on. Gradients accumulate into
   * {@link #adapter()}'s parameters. Call inside the caller's {@link DecoderLM#stepScope()}.
   */
  public double backward(NDArray inputs, NDArray targets, NDArray mask) {
    lora.train(true);
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray l = Losses.crossEntropy(model.logits(inputs), targets, mask); // scalar
      gc.backward(l);
      return SaeTuning.scalar(l);
    } finally {
      lora.train(false);
    }
  }

  /** Trains on equal-length packed chunks for {@link Config#epochs} epochs. */
  public LoraTrainer.Result train(List<int[]> chunks) throws IOException {
    long steps = Batches.stepsPerEpoch(chunks.size(), config.batchSize()) * config.epochs();
    return train(Batches.packed(chunks, config.batchSize()), steps);
  }

  /** Trains for {@code steps} steps on {@code data}: the loss covers each batch's {@link TokenBatch#targetMask()}. */
  public LoraTrainer.Result train(Batches data, long steps) throws IOException {
    return trainer.run((step, scope) -> {
      TokenBatch b = data.at(step, scope);
      NDArray mask = b.targetMask();
      double loss = backward(b.inputs(), b.targets(), mask);
      long tokens = b.realTokens(); // processed, for throughput and FLOPs (the loss may cover fewer)
      return new LoraTrainer.Step(loss, tokens, Map.of());
    }, steps);
  }

  @Override
  public void close() {
    if (model.adapter() == lora) model.setAdapter(null);
    lora.close();
  }
}
