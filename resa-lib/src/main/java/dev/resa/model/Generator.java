package dev.resa.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Autoregressive decoding with a KV cache: a batch of prompts of different lengths (left-padded, with position
 * ids that start at each prompt's first real token), greedy or temperature / top-p sampling, stop tokens.
 *
 * <p>Greedy picks are libtorch's argmax (only the chosen ids cross to Java); sampling happens in Java with one seeded
 * {@link Random} per row, so results are reproducible on any device and a row's output does not depend on which
 * other prompts share its batch or when they finish.
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

  /**
   * As {@link #generate(List, Sampling)}, telling {@code listener} about every token as it is produced.
   *
   * <p>All prompts decode together: one prefill of the left-padded batch, then one token per row per step. A row that
   * emits a stop token leaves the batch (its cache row is dropped), so the others stop paying for it; since rows never
   * interact, that changes no other row's tokens. Without an active adapter each step runs through
   * {@link DecodeStep}; with one, through the general {@link DecoderLM#forward}.
   */
  public List<int[]> generate(List<int[]> prompts, Sampling s, Listener listener) {
    int b = prompts.size();
    if (b == 0) return List.of();
    int longest = 0;
    for (int[] p : prompts) {
      if (p.length == 0) throw new IllegalArgumentException("empty prompt: start it with BOS or any token");
      longest = Math.max(longest, p.length);
    }
    int maxPositions = model.config().maxPositions();
    if (longest >= maxPositions) {
      throw new IllegalArgumentException("prompt of " + longest + " tokens leaves no room under max positions " + maxPositions);
    }
    int capacity = Math.min(longest + s.maxNewTokens(), maxPositions);
    int steps = Math.min(s.maxNewTokens(), capacity - longest + 1); // the prefill makes the first token
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
    int[] rows = new int[b]; // original prompt index of each cache row
    long[] nextPos = new long[b]; // position of each cache row's next token
    for (int r = 0; r < b; r++) {
      rows[r] = r;
      nextPos[r] = longest - pads[r] - 1; // the prefill's last position; each step moves one on
    }
    DataType dtype = model.weights().get("model.embed_tokens.weight").getDataType();
    try (KvCache cache = new KvCache(model.config(), model.manager(), b, capacity, dtype);
         DecodeStep fast = model.adapterActive() ? null : new DecodeStep(model, capacity)) {
      cache.setLeftPadding(pads);
      long[] feed = new long[b];
      for (int step = 0; step < steps; step++) {
        int n = rows.length;
        int[] next;
        if (step == 0) {
          try (NDManager scope = model.stepScope()) {
            NDArray tok = scope.create(tokens, new Shape(b, longest));
            NDArray pos = scope.create(positions, new Shape(b, longest));
            next = pick(model.forward(tok, new DecoderLM.Options().decode(cache).positions(pos)).logits(), rows, s, rngs);
          }
        } else if (fast != null) {
          try (NDManager scope = model.manager().newSubManager()) {
            PtNDArray tok = (PtNDArray) scope.create(feed);
            PtNDArray pos = (PtNDArray) scope.create(nextPos);
            next = pick(fast.logits(scope, cache, tok, pos), rows, s, rngs);
          }
        } else {
          try (NDManager scope = model.stepScope()) {
            NDArray tok = scope.create(feed, new Shape(n, 1));
            NDArray pos = scope.create(nextPos, new Shape(n, 1));
            next = pick(model.forward(tok, new DecoderLM.Options().decode(cache).positions(pos)).logits(), rows, s, rngs);
          }
        }
        int[] survivors = new int[n];
        int kept = 0;
        for (int i = 0; i < n; i++) {
          out.get(rows[i]).add(next[i]);
          listener.onToken(rows[i], next[i]);
          if (!s.stopTokens().contains(next[i])) survivors[kept++] = i;
        }
        if (kept == 0 || step + 1 == steps) break;
        if (kept < n) cache.keepRows(Arrays.copyOf(survivors, kept)); // finished rows leave the batch
        int[] keptRows = new int[kept];
        long[] keptPos = new long[kept];
        feed = new long[kept];
        for (int j = 0; j < kept; j++) {
          int i = survivors[j];
          keptRows[j] = rows[i];
          keptPos[j] = nextPos[i] + 1;
          feed[j] = next[i];
        }
        rows = keptRows;
        nextPos = keptPos;
      }
    }
    List<int[]> result = new ArrayList<>(b);
    for (List<Integer> row : out) result.add(row.stream().mapToInt(Integer::intValue).toArray());
    return result;
  }

  /** The next token of each cache row from logits [n, 1, V]: argmax in libtorch when greedy, else sampled in Java. */
  private int[] pick(NDArray logits, int[] rows, Sampling s, Random[] rngs) {
    int n = rows.length;
    int[] next = new int[n];
    if (s.temperature() == 0) {
      long[] best = JniUtils.argMax((PtNDArray) logits, -1, false).toLongArray(); // [n, 1]
      for (int i = 0; i < n; i++) next[i] = (int) best[i];
      return next;
    }
    int v = model.config().vocabSize();
    float[] flat = logits.toType(DataType.FLOAT32, false).toFloatArray(); // [n * V]
    for (int i = 0; i < n; i++) next[i] = sample(flat, i * v, v, s, rngs[rows[i]]);
    return next;
  }

  /** Ids whose weight is at least {@code tau}, in id order. */
  private static Integer[] candidates(double[] p, double tau) {
    int count = 0;
    for (double x : p) if (x >= tau) count++;
    Integer[] ids = new Integer[count];
    for (int i = 0, j = 0; i < p.length; i++) if (p[i] >= tau) ids[j++] = i;
    return ids;
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
      // The nucleus is a prefix of the tokens sorted by probability (ties by id). Sorting all V ids costs ~20 ms per
      // row at V = 152k, so sort only the ids with p >= tau (the max has p = 1): they are a prefix of that order, and
      // if their mass reaches topP it holds the nucleus; otherwise lower tau and look again.
      for (double tau = 1e-3; order == null; tau = tau > 1e-12 ? tau * 1e-3 : 0) {
        Integer[] candidates = candidates(p, tau);
        final double[] probs = p;
        Arrays.sort(candidates, (a, c) -> probs[c] != probs[a] ? Double.compare(probs[c], probs[a]) : Integer.compare(a, c));
        double cum = 0;
        for (int i = 0; i < candidates.length; i++) {
          cum += p[candidates[i]] / z;
          if (cum >= s.topP()) {
            keep = i + 1;
            order = candidates;
            break;
          }
        }
        if (order == null && candidates.length == v) order = candidates; // rounding kept cum under topP: keep all
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
