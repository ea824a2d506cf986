package dev.resa.cli;

import dev.resa.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** The training-text options of {@code tune} and {@code sft}: a corpus packed into fixed-length chunks. */
final class TextDataOptions {
  @Option(names = "--data", required = true, description = "Training text: one document per line, or .jsonl.")
  Path data;

  @Option(names = "--field", defaultValue = "text", description = "JSONL field holding the text (default: ${DEFAULT-VALUE}).")
  String field;

  @Option(names = "--seq-len", defaultValue = "2048", description = "Packed chunk length (default: ${DEFAULT-VALUE}, Resa).")
  int seqLen;

  /** The corpus packed as sparsify does (see {@link TuningInputs#chunks}). */
  List<int[]> chunks(Tokenizer tok) throws IOException {
    return TuningInputs.chunks(data, field, tok, seqLen);
  }
}
