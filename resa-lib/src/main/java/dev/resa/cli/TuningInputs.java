package dev.resa.cli;

import dev.resa.activations.Packing;
import dev.resa.tokenizer.CharTokenizer;
import dev.resa.tokenizer.HfTokenizer;
import dev.resa.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Shared inputs of the tuning commands: a base model folder's tokenizer and packed training chunks. */
final class TuningInputs {
  private TuningInputs() {}

  /** The tokenizer saved next to a model: {@code char_tokenizer.json} (train-lm) or {@code tokenizer.json} (HF). */
  static Tokenizer tokenizer(Path base) throws IOException {
    Path chars = base.resolve(TrainLmCommand.CHAR_TOKENIZER_FILE);
    if (Files.isRegularFile(chars)) return CharTokenizer.load(chars);
    if (Files.isRegularFile(base.resolve("tokenizer.json"))) return HfTokenizer.open(base);
    throw new IOException("no tokenizer in " + base + " (expected tokenizer.json or " + TrainLmCommand.CHAR_TOKENIZER_FILE + ")");
  }

  /** Documents of {@code data} packed into chunks of {@code seqLen} tokens (EOS-separated, last partial chunk dropped). */
  static List<int[]> chunks(Path data, String field, Tokenizer tok, int seqLen) throws IOException {
    List<int[]> out = new ArrayList<>();
    for (long[] c : Packing.pack(Packing.readDocuments(data, field), tok, seqLen)) {
      int[] row = new int[c.length];
      for (int i = 0; i < c.length; i++) row[i] = Math.toIntExact(c[i]);
      out.add(row);
    }
    if (out.isEmpty()) throw new IOException(data + ": fewer than " + seqLen + " tokens, not even one chunk; lower --seq-len");
    return out;
  }

  /** Copies tokenizer files from the base folder so an exported model folder is self-contained. */
  static void copyTokenizer(Path base, Path out) throws IOException {
    for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", TrainLmCommand.CHAR_TOKENIZER_FILE)) {
      if (Files.isRegularFile(base.resolve(f))) Files.copy(base.resolve(f), out.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
