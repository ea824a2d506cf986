package dev.resa.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Autoregressive decoding with a KV cache: a batch of prompts of different lengths (left-padded, with position
 * ids that start at each prompt's first real token), greedy or temperature / top-p sampling, stop tokens.
 *
 * <p>Sampling happens in Java with one seeded {@link Random} per row, so results are reproducible on any device
 * and a row's output does not depend on which other prompts share its batch.
 */
public final class Generator {
  private final DecoderLM model;

  public Generator(DecoderLM model) {
    this.model = model;
  }

  /**
   * @param maxNewTokens most tokens to generate per prompt.
   * @param temperature 0 means greedy (argmax); Resa evaluates at 0.6.
   * @param topP nucleus mass kept when sampling (Resa: 0.95); 1 disables it.
   * @param stopTokens ids that end a row; the stop token is included in the output.
   * @param seed base seed; row b uses {@code seed} mixed with b.
   */
  public record Sampling(int maxNewTokens, double temperature, double topP, Set<Integer> stopTokens, long seed) {
    public Sampling {
      if (maxNewTokens < 0) throw new IllegalArgumentException("maxNewTokens must be >= 0");
      if (temperature < 0) throw new IllegalArgumentException("temperature must be >= 0");
      if (topP <= 0 || topP > 1) throw new IllegalArgumentException("topP must be in (0, 1]");
      stopTokens = Set.copyOf(stopTokens);
    }

    public static Sampling greedy(int maxNewTokens, Set<Integer> stop) {
      return new Sampling(maxNewTokens, 0, 1, stop, 0);
    }
  }

  /** Receives each row's new token as soon as it is sampled (for streaming output). */
  @FunctionalInterface
  public interface Listener {
    void onToken(int row, int token);
  }

  /** Generates a continuation for each prompt; returns only the new tokens. */
  public List<int[]> generate(List<int[]> prompts, Sampling s) {
    return generate(prompts, s, (row, token) -> {});
  }

  /** As {@link #generate(List, Sampling)}, telling {@code listener} about every token as it is produced. */
  public List<int[]> generate(List<int[]> prompts, Sampling s, Listener listener) {
    int b = prompts.size();
    if (b == 0) return List.of();
    int longest = 0;
    for (int[] p : prompts) {
      if (p.length == 0) throw new IllegalArgumentException("empty prompt: start it with BOS or any token");
      longest = Math.max(longest, p.length);
    }
    int capacity = Math.min(longest + s.maxNewTokens(), model.config().maxPositions());
    if (longest >= model.config().maxPositions()) {
      throw new IllegalArgumentException("prompt of " + longest + " tokens leaves no room under max positions " + model.config().maxPositions());
    }
    int[] pads = new int[b];
    long[] tokens = new long[b * longest];
    long[] positions = new long[b * longest];
    for (int r = 0; r < b; r++) {
      int[] p = prompts.get(r);
      pads[r] = longest - p.length;
      for (int t = 0; t < longest; t++) {
        tokens[r * longest + t] = t < pads[r] ? 0 : p[t - pads[r]];
        positions[r * longest + t] = Math.max(0, t - pads[r]);
      }
    }
    Random[] rngs = new Random[b];
    for (int r = 0; r < b; r++) rngs[r] = new Random(mix(s.seed() * 0x9E3779B97F4A7C15L + r));
    List<List<Integer>> out = new ArrayList<>();
    for (int r = 0; r < b; r++) out.add(new ArrayList<>());
    boolean[] done = new boolean[b];
    int[] nextPos = new int[b];
    for (int r = 0; r < b; r++) nextPos[r] = longest - pads[r];
    DataType dtype = model.weights().get("model.embed_tokens.weight").getDataType();
    try (KvCache cache = new KvCache(model.config(), model.manager(), b, capacity, dtype)) {
      cache.setLeftPadding(pads);
      long[] feed = tokens;
      long[] feedPos = positions;
      int feedLen = longest;
      for (int step = 0; step < s.maxNewTokens() && cache.length() + feedLen <= capacity; step++) {
        float[] logits;
        try (NDManager scope = model.stepScope()) {
          cache.attachTo(scope);
          NDArray tok = scope.create(feed, new Shape(b, feedLen));
          NDArray pos = scope.create(feedPos, new Shape(b, feedLen));
          DecoderLM.Output o = model.forward(tok, new DecoderLM.Options().cache(cache).positions(pos).lastPositionOnly());
          logits = o.logits().toType(DataType.FLOAT32, false).toFloatArray(); // [B * V]
        }
        int v = model.config().vocabSize();
        feed = new long[b];
        feedPos = new long[b];
        feedLen = 1;
        boolean all = true;
        for (int r = 0; r < b; r++) {
          int next = done[r] ? 0 : sample(logits, r * v, v, s, rngs[r]);
          if (!done[r]) {
            out.get(r).add(next);
            listener.onToken(r, next);
            if (s.stopTokens().contains(next)) done[r] = true;
          }
          feed[r] = next;
          feedPos[r] = Math.min(nextPos[r]++, model.config().maxPositions() - 1);
          all &= done[r];
        }
        if (all) break;
      }
    }
    List<int[]> result = new ArrayList<>(b);
    for (List<Integer> row : out) result.add(row.stream().mapToInt(Integer::intValue).toArray());
    return result;
  }

  /**
   * SplitMix64's finaliser. java.util.Random keeps only 48 seed bits and its first draws for nearby seeds are
   * nearly equal, so rows seeded {@code seed + r} would sample the same tokens; mixing decorrelates them.
   */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Draws one token from row logits {@code [off, off + v)}. */
  static int sample(float[] logits, int off, int v, Sampling s, Random rng) {
    if (s.temperature() == 0) {
      int best = 0;
      for (int i = 1; i < v; i++) if (logits[off + i] > logits[off + best]) best = i;
      return best;
    }
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < v; i++) max = Math.max(max, logits[off + i]);
    double[] p = new double[v];
    double z = 0;
    for (int i = 0; i < v; i++) {
      p[i] = Math.exp((logits[off + i] - max) / s.temperature());
      z += p[i];
    }
    Integer[] order = null;
    int keep = v;
    if (s.topP() < 1) {
      order = new Integer[v];
      for (int i = 0; i < v; i++) order[i] = i;
      final double[] probs = p;
      Arrays.sort(order, (a, c) -> Double.compare(probs[c], probs[a]));
      double cum = 0;
      for (int i = 0; i < v; i++) {
        cum += p[order[i]] / z;
        if (cum >= s.topP()) {
          keep = i + 1;
          break;
        }
      }
      double kept = 0;
      for (int i = 0; i < keep; i++) kept += p[order[i]];
      z = kept;
    }
    double u = rng.nextDouble() * z;
    if (order == null) {
      for (int i = 0; i < v; i++) {
        u -= p[i];
        if (u <= 0) return i;
      }
      return v - 1;
    }
    for (int i = 0; i < keep; i++) {
      u -= p[order[i]];
      if (u <= 0) return order[i];
    }
    return order[keep - 1];
  }
}
