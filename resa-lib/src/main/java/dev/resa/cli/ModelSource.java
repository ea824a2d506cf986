package dev.resa.cli;

import ai.djl.ndarray.NDManager;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.model.Llama2c;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The model a command reads: a Hugging Face folder or a llama2.c checkpoint, exactly one of them. Used as
 * {@code @ArgGroup(exclusive = true, multiplicity = "1")} by {@code generate}, {@code train-sae} and {@code sae-metrics}.
 */
final class ModelSource {
  @Option(names = "--model", paramLabel = "DIR", description = "HF folder: config.json + model.safetensors (or sharded index) + tokenizer.json.")
  Path model;

  @Option(names = "--llama2c", paramLabel = "BIN", description = "llama2.c checkpoint, e.g. stories260K.bin.")
  Path llama2c;

  DecoderLM load(NDManager manager) throws IOException {
    return model != null ? HfCheckpoint.load(model, manager) : Llama2c.load(llama2c, manager);
  }

  /** {@code tokenizer.json} of the HF folder when there is one, else null (a llama2.c checkpoint needs --tokenizer). */
  Path tokenizerJson() {
    Path file = model == null ? null : model.resolve("tokenizer.json");
    return file != null && Files.isRegularFile(file) ? file : null;
  }
}
