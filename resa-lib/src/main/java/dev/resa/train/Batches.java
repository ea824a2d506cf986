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
   * (prompt, completion) pairs drawn per step by {@code draw} from a {@link Random} seeded with {@link #mix}(seed,
   * step), as {@link TokenBatch#pairs}.
   */
  static Batches pairs(Tokenizer tok, long seed, Function<Random, List<String[]>> draw) {
    return pairs(tok, seed, draw, TokenBatch.Coverage.COMPLETION);
  }

  /** As {@link #pairs(Tokenizer, long, Function)}, the loss covering what {@code coverage} names. */
  static Batches pairs(Tokenizer tok, long seed, Function<Random, List<String[]>> draw, TokenBatch.Coverage coverage) {
    return (step, scope) -> TokenBatch.pairs(scope, tok, draw.apply(new Random(mix(seed, step))), coverage);
  }

  /**
   * A well-spread seed for step {@code step} of a run seeded {@code seed} (murmur3's 64-bit finaliser): java.util.Random's
   * first draws for consecutive seeds are strongly correlated, so seeding it with {@code seed + step} would give
   * nearly the same batch at every step.
   */
  static long mix(long seed, long step) {
    long h = seed * 0x9E3779B97F4A7C15L + step;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    return h ^ (h >>> 33);
  }

  static long stepsPerEpoch(int chunks, int batchSize) {
    if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
    return (chunks + batchSize - 1) / batchSize;
  }
}
