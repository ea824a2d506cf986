package dev.resa.train;

import ai.djl.ndarray.NDManager;
import dev.resa.tokenizer.Tokenizer;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * A trainer's data as a function of the (0-based) step: a resumed run asks for step k and gets exactly the batch an
 * uninterrupted run saw at step k.
 */
@FunctionalInterface
public interface Batches {
  /** The batch of step {@code step}, its arrays in {@code scope}. */
  TokenBatch at(long step, NDManager scope);

  /** Epochs over equal-length chunks in file order, {@code batchSize} per step (the last of an epoch may be smaller). */
  static Batches packed(List<int[]> chunks, int batchSize) {
    if (chunks.isEmpty()) throw new IllegalArgumentException("no chunks to train on");
    long perEpoch = stepsPerEpoch(chunks.size(), batchSize);
    return (step, scope) -> {
      int b = (int) (step % perEpoch) * batchSize;
      return TokenBatch.packed(scope, chunks.subList(b, Math.min(chunks.size(), b + batchSize)));
    };
  }

  /**
   * (prompt, completion) pairs drawn per step by {@code draw} from a {@link Random} seeded with the step and
   * {@code seed}, as {@link TokenBatch#pairs}.
   */
  static Batches pairs(Tokenizer tok, long seed, Function<Random, List<String[]>> draw) {
    return (step, scope) -> TokenBatch.pairs(scope, tok, draw.apply(new Random(seed * 1_000_003L + step)));
  }

  static long stepsPerEpoch(int chunks, int batchSize) {
    if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
    return (chunks + batchSize - 1) / batchSize;
  }
}
