package dev.resa.miniature;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.resa.tokenizer.Tokenizer;
import java.util.List;

/**
 * A right-padded batch of {@code <bos> prompt completion <eos>} sequences, shifted for next-token training.
 * Right padding keeps every real token's causal context free of pads, so no attention mask is needed.
 *
 * @param inputs tokens [B, T] (int64), the sequence without its last token.
 * @param targets next tokens [B, T] (int64).
 * @param valid 1 where the target is a real token [B, T] (float32).
 * @param completion 1 where the target belongs to the completion (after the prompt) [B, T] (float32).
 */
record TokenBatch(NDArray inputs, NDArray targets, NDArray valid, NDArray completion) {

  /** Encodes {@code prompts[i] + completions[i]}; the completion mask starts at the completion's first token. */
  static TokenBatch of(NDManager m, Tokenizer tok, List<String> prompts, List<String> completions) {
    List<int[]> seqs = new java.util.ArrayList<>();
    int[] promptLen = new int[prompts.size()];
    for (int i = 0; i < prompts.size(); i++) {
      int[] p = tok.encode(prompts.get(i));
      int[] c = tok.encode(completions.get(i));
      int[] s = new int[p.length + c.length + 2];
      s[0] = tok.bosId();
      System.arraycopy(p, 0, s, 1, p.length);
      System.arraycopy(c, 0, s, 1 + p.length, c.length);
      s[s.length - 1] = tok.eosId();
      seqs.add(s);
      promptLen[i] = 1 + p.length;
    }
    return ofTokens(m, seqs, promptLen, tok.padId());
  }

  /** Batches already-tokenized sequences (BOS included); the completion starts at {@code promptLens[i]}. */
  static TokenBatch ofTokens(NDManager m, List<int[]> seqs, int[] promptLens, int pad) {
    int b = seqs.size();
    int longest = 0;
    for (int[] s : seqs) longest = Math.max(longest, s.length);
    int t = longest - 1;
    long[] in = new long[b * t];
    long[] out = new long[b * t];
    float[] valid = new float[b * t];
    float[] comp = new float[b * t];
    for (int i = 0; i < b; i++) {
      int[] s = seqs.get(i);
      for (int j = 0; j < t; j++) {
        boolean real = j + 1 < s.length;
        in[i * t + j] = j < s.length ? s[j] : pad;
        out[i * t + j] = real ? s[j + 1] : pad;
        valid[i * t + j] = real ? 1 : 0;
        comp[i * t + j] = real && j + 1 >= promptLens[i] ? 1 : 0;
      }
    }
    Shape sh = new Shape(b, t);
    return new TokenBatch(m.create(in, sh), m.create(out, sh), m.create(valid, sh), m.create(comp, sh));
  }
}
