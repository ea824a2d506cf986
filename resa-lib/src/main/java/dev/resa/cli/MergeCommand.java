package dev.resa.cli;

import ai.djl.ndarray.NDManager;
import dev.resa.model.DecoderLM;
import dev.resa.train.Progress;
import dev.resa.tuning.Lora;
import dev.resa.tuning.MergedModel;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./resa merge}: folds a PEFT LoRA adapter into a base model (any base of the same shape, Table 5). */
@Command(name = "merge", mixinStandardHelpOptions = true,
    description = {"Merge a PEFT LoRA adapter into a base model and save a plain model folder (W += alpha/r * B A).",
        "The base need not be the model the adapter was trained on, only the same shape (Resa's modularity)."})
public final class MergeCommand implements Callable<Integer> {
  @Mixin BaseModelOption base;

  @Option(names = "--adapter", required = true, description = "PEFT adapter folder (adapter_config.json + adapter_model.safetensors).")
  Path adapter;

  @Mixin OutputOption out;

  @Override
  public Integer call() throws Exception {
    try (NDManager root = NDManager.newBaseManager();
         DecoderLM model = base.load(root);
         Lora lora = Lora.load(adapter, model.config(), root);
         Progress.Bar bar = Progress.start("merge", 1)) {
      MergedModel.save(model, lora, out.dir);
      base.copyTokenizer(out.dir);
      bar.update(1, Map.of("modules", (double) lora.modules().size()));
    }
    System.out.println("merged " + adapter + " into " + base + " -> " + out.dir);
    return 0;
  }
}
