package dev.resa.activations;

import dev.resa.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * sparsify's {@code chunk_and_tokenize} packing (resa-algorithm §1.3): examples are taken in map batches; each
 * batch becomes one token stream {@code EOS ex1 EOS ex2 ...} (it starts with EOS) and is cut into fixed
 * {@code ctxLen} chunks; the last partial chunk of every batch is dropped. No padding and no attention mask.
 *
 * <p>sparsify joins the strings with the EOS string and tokenizes once; we join token ids, which is the same for
 * tokenizers that map the EOS string to the EOS id and works for tokenizers that cannot (llama2.c's).
 */
public final class Chunking {
  /** sparsify's {@code datasets.map} batch size. */
  public static final int MAP_BATCH = 2048;

  private Chunking() {}

  public static List<int[]> chunk(List<String> texts, Tokenizer tokenizer, int ctxLen) {
    return chunk(texts, tokenizer, ctxLen, MAP_BATCH);
  }

  public static List<int[]> chunk(List<String> texts, Tokenizer tokenizer, int ctxLen, int mapBatch) {
    if (ctxLen <= 0) throw new IllegalArgumentException("ctxLen must be positive, got " + ctxLen);
    int eos = tokenizer.eosId();
    if (eos < 0) throw new IllegalArgumentException("the tokenizer has no EOS token, which packing needs as separator");
    List<int[]> chunks = new ArrayList<>();
    for (int b = 0; b < texts.size(); b += mapBatch) {
      List<Integer> stream = new ArrayList<>();
      for (String t : texts.subList(b, Math.min(texts.size(), b + mapBatch))) {
        stream.add(eos);
        for (int id : tokenizer.encode(t)) stream.add(id);
      }
      for (int s = 0; s + ctxLen <= stream.size(); s += ctxLen) {
        int[] c = new int[ctxLen];
        for (int i = 0; i < ctxLen; i++) c[i] = stream.get(s + i);
        chunks.add(c);
      }
    }
    return chunks;
  }
}
