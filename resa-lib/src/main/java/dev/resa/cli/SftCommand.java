package dev.resa.cli;

import ai.djl.ndarray.NDManager;
import dev.resa.model.DecoderLM;
import dev.resa.tokenizer.Tokenizer;
import dev.resa.tuning.Sft;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./resa sft}: the SFT baselines (CoT-free or CoT, decided by the text in --data), LoRA + cross-entropy. */
@Command(name = "sft", mixinStandardHelpOptions = true,
    description = {"SFT baseline (Resa Table 3): LoRA trained with next-token cross-entropy on packed text.",
        "CoT-free vs CoT SFT is the data: answers only, or reasoning traces. Writes adapter/ and training.csv to --out."})
public final class SftCommand implements Callable<Integer> {
  @Mixin BaseModelOption base;

  @Mixin TextDataOptions text;

  @Mixin OutputOption out;

  @Option(names = "--epochs", defaultValue = "3", description = "Epochs (default: ${DEFAULT-VALUE}, Resa's SFT recipe).")
  int epochs;

  @Option(names = "--lr", defaultValue = "1e-5", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--batch", defaultValue = "16", description = "Chunks per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Mixin LoraOptions lora;

  @Mixin CheckpointOptions checkpoints;

  @Override
  public Integer call() throws Exception {
    try (NDManager root = NDManager.newBaseManager(); DecoderLM model = base.load(root)) {
      Tokenizer tok = base.tokenizer();
      List<int[]> chunks = text.chunks(tok);
      Sft.Config cfg = Sft.Config.resa().withLora(lora.config(42)).withLr(lr).withEpochs(epochs).withBatchSize(batch);
      cfg = cfg.withTrain(checkpoints.apply(cfg.train(), out.dir, base.toString()));
      try (Sft sft = new Sft(model, cfg)) {
        double loss = sft.train(chunks).lastLoss();
        System.out.printf(Locale.ROOT, "SFT done: %d chunks, last loss %.4f; adapter in %s%n", chunks.size(), loss, out.dir.resolve("adapter"));
      }
    }
    return 0;
  }
}
