package dev.resa.cli;

import ai.djl.ndarray.NDManager;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.tokenizer.CharTokenizer;
import dev.resa.tokenizer.HfTokenizer;
import dev.resa.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import picocli.CommandLine.Option;

/** The {@code --base} model folder of {@code tune}, {@code sft}, {@code grpo} and {@code merge}: its weights and tokenizer. */
final class BaseModelOption {
  @Option(names = "--base", required = true, paramLabel = "DIR", description = "Base model folder (config.json + safetensors + tokenizer).")
  Path dir;

  DecoderLM load(NDManager manager) throws IOException {
    return HfCheckpoint.load(dir, manager);
  }

  /** The tokenizer saved next to the model: {@code char_tokenizer.json} (train-lm) or {@code tokenizer.json} (HF). */
  Tokenizer tokenizer() throws IOException {
    Path chars = dir.resolve(TrainLmCommand.CHAR_TOKENIZER_FILE);
    if (Files.isRegularFile(chars)) return CharTokenizer.load(chars);
    if (Files.isRegularFile(dir.resolve("tokenizer.json"))) return HfTokenizer.open(dir);
    throw new IOException("no tokenizer in " + dir + " (expected tokenizer.json or " + TrainLmCommand.CHAR_TOKENIZER_FILE + ")");
  }

  /** Copies the tokenizer files into {@code out} so an exported model folder is self-contained. */
  void copyTokenizer(Path out) throws IOException {
    for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", TrainLmCommand.CHAR_TOKENIZER_FILE)) {
      if (Files.isRegularFile(dir.resolve(f))) Files.copy(dir.resolve(f), out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** The folder as given, the name adapters record as their base model. */
  @Override
  public String toString() {
    return dir.toString();
  }
}
