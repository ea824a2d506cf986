package dev.resa.cli;

import ai.djl.ndarray.NDManager;
import dev.resa.model.DecoderLM;
import dev.resa.sae.SparseCoder;
import dev.resa.sae.SparsifyFormat;
import dev.resa.tokenizer.Tokenizer;
import dev.resa.tuning.LoraTrainer;
import dev.resa.tuning.SaeTuning;
import dev.resa.tuning.Splice;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./resa tune}: Stage II, SAE-guided SFT of a base model with a frozen SAE spliced at one layer. */
@Command(name = "tune", mixinStandardHelpOptions = true,
    description = {"Stage II (SAE-Tuning): LoRA-tune a base model with a frozen SAE spliced into layers.L.",
        "The adapter is trained so the spliced model matches the original (KL). Writes PEFT checkpoints, adapter/,",
        "training.csv and merged/ to --out."})
public final class TuneCommand implements Callable<Integer> {
  @Mixin BaseModelOption base;

  @Option(names = "--sae", required = true, description = "SAE folder (sparsify layout: cfg.json + sae.safetensors).")
  Path sae;

  @Option(names = "--layer", required = true, description = "Splice layer L (the SAE's hook point layers.L).")
  int layer;

  @Mixin TextDataOptions text; // the elicitation data

  @Mixin OutputOption out;

  @Option(names = "--epochs", defaultValue = "2", description = "Epochs (default: ${DEFAULT-VALUE}, Resa).")
  int epochs;

  @Option(names = "--lr", defaultValue = "1e-6", description = "Learning rate (default: ${DEFAULT-VALUE}, Resa).")
  double lr;

  @Option(names = "--batch", defaultValue = "2", description = "Chunks per step (default: ${DEFAULT-VALUE}, Resa: 1 x 2 GPUs).")
  int batch;

  @Option(names = "--schedule", defaultValue = "constant", description = "constant (Resa's code) or cosine (the paper).")
  LoraTrainer.Schedule schedule;

  @Mixin LoraOptions lora;

  @Mixin CheckpointOptions checkpoints;

  @Option(names = "--naive", description = "Run the whole model for the student and adapt all layers (default: prefix shortcut).")
  boolean naive;

  @Option(names = "--no-merge", description = "Do not write the merged plain model to --out/merged.")
  boolean noMerge;

  @Override
  public Integer call() throws Exception {
    try (NDManager root = NDManager.newBaseManager();
         DecoderLM model = base.load(root);
         SparseCoder coder = SparsifyFormat.read(sae, root)) {
      Tokenizer tok = base.tokenizer();
      List<int[]> chunks = text.chunks(tok);
      SaeTuning.Config cfg = SaeTuning.Config.resa(layer).withLora(lora.config(42)).withLr(lr).withEpochs(epochs).withBatchSize(batch)
          .withSchedule(schedule, 0)
          .withPrefixShortcut(!naive);
      cfg = cfg.withTrain(checkpoints.apply(cfg.train(), out.dir, base.toString()));
      try (SaeTuning tuning = new SaeTuning(model, Splice.of(coder), cfg)) {
        System.out.printf("Stage II: %d chunks of %d tokens, layer %d, LoRA %d params on %d modules%n", chunks.size(), text.seqLen,
            layer, tuning.adapter().parameterCount(), tuning.adapter().modules().size());
        LoraTrainer.Result r = tuning.train(chunks);
        System.out.printf(Locale.ROOT, "KL first step %.5f, last step %.5f; adapter in %s%n", r.firstLoss(), r.lastLoss(), r.adapterDir());
        if (!noMerge) {
          Path merged = out.dir.resolve("merged");
          tuning.saveMerged(merged);
          base.copyTokenizer(merged);
          System.out.println("merged model (adapter folded in, SAE dropped) in " + merged);
        }
      }
    }
    return 0;
  }
}
