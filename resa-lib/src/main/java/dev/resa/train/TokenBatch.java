package dev.resa.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.resa.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * One step's token batch, as every trainer takes it. Rows are right-padded, which keeps every real token's causal
 * context free of pads, so no attention mask is needed.
 *
 * @param tokens token ids [B, T] (int64).
 * @param valid 1 where the token is real, 0 on padding [B, T] (float32); null when every position is real (packed chunks).
 * @param lossMask 1 where the token's prediction is trained (e.g. completion tokens) [B, T] (float32); null = every valid token.
 */
public record TokenBatch(NDArray tokens, NDArray valid, NDArray lossMask) {
  /** Next-token inputs [B, T-1]. */
  public NDArray inputs() {
    return tokens.get(":, :-1");
  }

  /** Next-token targets [B, T-1]. */
  public NDArray targets() {
    return tokens.get(":, 1:");
  }

  /** Which targets count [B, T-1]: the loss mask, else the validity, else null (all). */
  public NDArray targetMask() {
    NDArray m = lossMask != null ? lossMask : valid;
    return m == null ? null : m.get(":, 1:");
  }

  /** Number of real tokens. */
  public long realTokens() {
    return valid == null ? tokens.size() : (long) valid.sum().getFloat();
  }

  /** Equal-length chunks as one batch, every position real. */
  public static TokenBatch packed(NDManager m, List<int[]> rows) {
    int t = rows.get(0).length;
    long[] flat = new long[rows.size() * t];
    for (int r = 0; r < rows.size(); r++) {
      if (rows.get(r).length != t) throw new IllegalArgumentException("chunk " + r + " has " + rows.get(r).length + " tokens, chunk 0 has " + t);
      for (int i = 0; i < t; i++) flat[r * t + i] = rows.get(r)[i];
    }
    return new TokenBatch(m.create(flat, new Shape(rows.size(), t)), null, null);
  }

  /** Which next-token targets of a {@code <bos> prompt completion <eos>} text a trainer's loss covers. */
  public enum Coverage {
    /** The completion and the EOS (a completion-only collator; Stage II's and GRPO's share of the text). */
    COMPLETION,
    /** Every real token after BOS: prompt, completion and EOS (TRL's SFTTrainer without a completion-only collator). */
    WHOLE_TEXT
  }

  /**
   * {@code <bos> prompt completion <eos>} per pair, right-padded with the tokenizer's pad id; the loss mask covers the
   * completion and the EOS.
   */
  public static TokenBatch pairs(NDManager m, Tokenizer tok, List<String[]> promptCompletion) {
    return pairs(m, tok, promptCompletion, Coverage.COMPLETION);
  }

  /**
   * {@code <bos> prompt completion <eos>} per pair, right-padded with the tokenizer's pad id; the loss covers the targets
   * that {@code coverage} names ({@link Coverage#WHOLE_TEXT}: no loss mask, so {@link #targetMask} is the validity).
   */
  public static TokenBatch pairs(NDManager m, Tokenizer tok, List<String[]> promptCompletion, Coverage coverage) {
    List<int[]> seqs = new ArrayList<>();
    int[] promptLen = new int[promptCompletion.size()];
    int longest = 0;
    for (int i = 0; i < promptCompletion.size(); i++) {
      int[] p = tok.encode(promptCompletion.get(i)[0]);
      int[] c = tok.encode(promptCompletion.get(i)[1]);
      int[] s = new int[p.length + c.length + 2];
      s[0] = tok.bosId();
      System.arraycopy(p, 0, s, 1, p.length);
      System.arraycopy(c, 0, s, 1 + p.length, c.length);
      s[s.length - 1] = tok.eosId();
      seqs.add(s);
      promptLen[i] = 1 + p.length;
      longest = Math.max(longest, s.length);
    }
    int b = seqs.size(), pad = Math.max(0, tok.padId());
    long[] ids = new long[b * longest];
    float[] valid = new float[b * longest], loss = new float[b * longest];
    for (int i = 0; i < b; i++) {
      int[] s = seqs.get(i);
      for (int j = 0; j < longest; j++) {
        boolean real = j < s.length;
        ids[i * longest + j] = real ? s[j] : pad;
        valid[i * longest + j] = real ? 1 : 0;
        loss[i * longest + j] = real && j >= promptLen[i] ? 1 : 0;
      }
    }
    Shape sh = new Shape(b, longest);
    return new TokenBatch(m.create(ids, sh), m.create(valid, sh), coverage == Coverage.WHOLE_TEXT ? null : m.create(loss, sh));
  }
}
