package dev.resa.cli;

import dev.resa.activations.Packing;
import dev.resa.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
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

  /** The documents packed into chunks of {@code --seq-len} tokens as sparsify packs them (EOS-separated, last partial chunk dropped). */
  List<int[]> chunks(Tokenizer tok) throws IOException {
    List<int[]> out = new ArrayList<>();
    for (long[] c : Packing.pack(Packing.readDocuments(data, field), tok, seqLen)) {
      int[] row = new int[c.length];
      for (int i = 0; i < c.length; i++) row[i] = Math.toIntExact(c[i]);
      out.add(row);
    }
    if (out.isEmpty()) throw new IOException(data + ": fewer than " + seqLen + " tokens, not even one chunk; lower --seq-len");
    return out;
  }
}
