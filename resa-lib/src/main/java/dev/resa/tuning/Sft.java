package dev.resa.tuning;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.resa.model.DecoderLM;
import dev.resa.train.AdamW;
import dev.resa.train.Gradients;
import dev.resa.train.Losses;
import dev.resa.train.LrSchedule;
import dev.resa.train.Progress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import tech.tablesaw.api.Table;

/**
 * The SFT baselines of Resa's Table 3 ({@code resa/post_train_hf/sft.py}): LoRA trained with next-token
 * cross-entropy on packed text. CoT-free SFT and CoT SFT differ only in the text: {@link #format} with or
 * without the reasoning trace.
 */
public final class Sft implements AutoCloseable {
  /**
   * @param lora adapter shape; default r 32, alpha 128, dropout 0.05 on all seven projections (Resa's SFT recipe).
   * @param lr peak learning rate; default 1e-5 (Resa's SFT recipe).
   * @param weightDecay AdamW decoupled decay; default 0 (the HF Trainer default; the SFT recipe does not set it).
   * @param clipNorm global gradient-norm clip; default 1.0 (HF Trainer default).
   * @param epochs passes over the chunks; default 3 (Resa's SFT recipe).
   * @param batchSize chunks per optimizer step; default 16 (STILL recipe's per-device batch).
   * @param warmupRatio fraction of steps of linear warm-up before cosine decay to 0; default 0.05 (recipe).
   * @param saveEvery steps between adapter checkpoints, 0 for none; default 500.
   * @param outDir checkpoints, final adapter and training table, or null.
   * @param baseModelName written into adapter_config.json.
   */
  public record Config(LoraConfig lora, double lr, double weightDecay, double clipNorm, int epochs, int batchSize,
                       double warmupRatio, int saveEvery, Path outDir, String baseModelName) {
    public Config {
      if (epochs <= 0 || batchSize <= 0) throw new IllegalArgumentException("epochs and batchSize must be positive");
      if (!(lr > 0)) throw new IllegalArgumentException("lr must be positive, got " + lr);
    }

    public static Config resa() {
      return new Config(LoraConfig.resa(), 1e-5, 0.0, 1.0, 3, 16, 0.05, 500, null, "");
    }
  }

  /** Resa's SFT text: {@code think: \n{trace or answer}\n answer: {answer}} after the question. */
  public static String format(String question, String trace, String answer, boolean cotFree) {
    return question + "\nthink: \n" + (cotFree || trace == null ? answer : trace) + "\n answer: " + answer;
  }

  private final DecoderLM model;
  private final Config config;
  private final Lora lora;
  private final TrainingLog log = new TrainingLog("sft", "loss");

  public Sft(DecoderLM model, Config config) {
    this.model = model;
    this.config = config;
    DataType dtype = model.weights().get("model.embed_tokens.weight").getDataType();
    this.lora = Lora.create(config.lora(), model.config(), model.manager(), dtype).attachTo(model);
  }

  public Lora adapter() {
    return lora;
  }

  public Table log() {
    return log.table();
  }

  /**
   * One forward and backward for callers with their own batching (e.g. right-padded prompt / completion pairs):
   * mean cross-entropy of {@code targets} [B, T] given {@code inputs} [B, T] over the positions where {@code mask}
   * [B, T] is 1 (null = all), with adapter dropout on. Gradients accumulate into {@link #adapter()}'s parameters;
   * the caller clips, steps and zeroes them. Call inside the caller's {@link DecoderLM#stepScope()}.
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

  /** Trains on equal-length packed chunks; returns the mean loss of the last step. */
  public double train(List<int[]> chunks) throws IOException {
    if (chunks.isEmpty()) throw new IllegalArgumentException("no chunks to train on");
    long perEpoch = (chunks.size() + config.batchSize() - 1) / config.batchSize();
    long total = perEpoch * config.epochs();
    LrSchedule schedule = LrSchedule.cosine(config.lr(), 0, Math.round(config.warmupRatio() * total), total);
    List<NDArray> params = lora.parameters();
    double last = Double.NaN;
    long step = 0, start = System.nanoTime();
    try (AdamW adamw = new AdamW(new AdamW.Config(config.lr(), 0.9, 0.999, 1e-8, config.weightDecay()), lora.manager());
         Progress.Bar bar = Progress.start("SFT (LoRA, cross-entropy)", total)) {
      for (int epoch = 0; epoch < config.epochs(); epoch++) {
        for (int b = 0; b < chunks.size(); b += config.batchSize()) {
          Progress.checkInterrupted();
          double lr = schedule.at(step);
          double loss, norm;
          try (NDManager scope = model.stepScope()) {
            NDArray tokens = SaeTuning.tokens(scope, chunks.subList(b, Math.min(chunks.size(), b + config.batchSize()))); // [B, T]
            lora.train(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
              NDArray logits = model.logits(tokens).get(":, :-1, :"); // [B, T-1, V]
              NDArray l = Losses.crossEntropy(logits, tokens.get(":, 1:"), null);
              gc.backward(l);
              loss = SaeTuning.scalar(l);
            } finally {
              lora.train(false);
            }
            norm = Gradients.clipGlobalNorm(params, config.clipNorm());
            adamw.step(params, lr);
          }
          step++;
          last = loss;
          log.add(step, epoch, lr, norm, (System.nanoTime() - start) / 1e9, loss);
          bar.update(step, Map.of("loss", loss));
          if (config.outDir() != null && config.saveEvery() > 0 && step % config.saveEvery() == 0) {
            lora.save(config.outDir().resolve("checkpoint-" + step), config.baseModelName());
            log.save(config.outDir().resolve("training.csv"));
          }
        }
      }
    }
    if (config.outDir() != null) {
      lora.save(config.outDir().resolve("adapter"), config.baseModelName());
      log.save(config.outDir().resolve("training.csv"));
    }
    return last;
  }

  @Override
  public void close() {
    if (model.adapter() == lora) model.setAdapter(null);
    lora.close();
  }
}
