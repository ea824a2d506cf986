package dev.resa.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.resa.core.Djl;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** KV-cache decoding against full recomputation, padded batches, seeds, and the top-p distribution. */
class GeneratorTest {
  private NDManager m;
  private DecoderLM model;
  private final ModelConfig c = TestModels.config(ModelConfig.Architecture.QWEN2, ModelConfig.Rope.HALF, true, true, 2, 13);

  @BeforeEach
  void open() {
    m = Djl.newManager(Device.cpu());
    model = TestModels.random(c, 17, m); // float64
  }

  @AfterEach
  void close() {
    model.close();
    m.close();
  }

  private static int argmax(double[] a, int off, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) if (a[off + i] > a[off + best]) best = i;
    return best;
  }

  /** Greedy decoding by recomputing the whole sequence every step: the obviously-correct way. */
  private int[] greedyByRecomputation(int[] prompt, int steps) {
    List<Integer> seq = new ArrayList<>();
    for (int t : prompt) seq.add(t);
    int[] out = new int[steps];
    int v = c.vocabSize();
    for (int s = 0; s < steps; s++) {
      long[] row = seq.stream().mapToLong(Integer::longValue).toArray();
      double[] logits = model.logits(TestModels.tokens(m, new long[][] {row})).toDoubleArray();
      out[s] = argmax(logits, (row.length - 1) * v, v);
      seq.add(out[s]);
    }
    return out;
  }

  @Test
  void cachedLogitsEqualFullRecomputationTokenForToken() {
    int[] prompt = {1, 4, 7};
    int steps = 10, v = c.vocabSize();
    List<Long> seq = new ArrayList<>();
    for (int t : prompt) seq.add((long) t);
    try (KvCache cache = new KvCache(c, m, 1, 32, DataType.FLOAT64)) {
      long[] feed = Arrays.stream(prompt).asLongStream().toArray();
      for (int s = 0; s < steps; s++) {
        double[] cached = model.forward(TestModels.tokens(m, new long[][] {feed}), new DecoderLM.Options().decode(cache))
            .logits().toDoubleArray(); // [1, 1, V]
        long[] row = seq.stream().mapToLong(Long::longValue).toArray();
        double[] full = model.logits(TestModels.tokens(m, new long[][] {row})).toDoubleArray();
        for (int k = 0; k < v; k++) {
          assertEquals(full[(row.length - 1) * v + k], cached[k], 1e-10, "step " + s + " logit " + k);
        }
        int next = argmax(cached, 0, v);
        seq.add((long) next);
        feed = new long[] {next};
      }
    }
    int[] generated = new Generator(model).generate(List.of(prompt), Generator.Sampling.greedy(steps, Set.of())).get(0);
    assertArrayEquals(greedyByRecomputation(prompt, steps), generated);
    assertTrue(Arrays.stream(generated).distinct().count() > 1, "degenerate test: model repeats one token");
  }

  /** With an adapter active, steps take the general forward (DecodeStep does not fuse adapters): still exact. */
  @Test
  void adapterActiveDecodesThroughTheGeneralForward() {
    NDArray shift = m.randomNormal(0, 0.5f, new ai.djl.ndarray.types.Shape(c.numKvHeads() * c.headDim()), DataType.FLOAT64);
    model.setAdapter(new Adapter() {
      @Override
      public NDArray delta(String module, NDArray x) {
        return module.endsWith("v_proj") ? x.sum(new int[] {-1}, true).mul(shift) : null; // [B, T, 1] * [K*E]
      }

      @Override
      public List<NDArray> parameters() {
        return List.of(shift);
      }
    });
    int[] prompt = {2, 9, 3};
    int[] withAdapter = new Generator(model).generate(List.of(prompt), Generator.Sampling.greedy(8, Set.of())).get(0);
    assertArrayEquals(greedyByRecomputation(prompt, 8), withAdapter);
    model.setAdapter(null);
    assertFalse(Arrays.equals(withAdapter, new Generator(model).generate(List.of(prompt), Generator.Sampling.greedy(8, Set.of())).get(0)),
        "degenerate test: the adapter does not change the greedy tokens");
  }

  @Test
  void leftPaddedBatchEqualsEachPromptAlone() {
    List<int[]> prompts = List.of(new int[] {1, 4, 7}, new int[] {2, 9, 3, 5, 8, 6, 10}, new int[] {0, 5}, new int[] {12});
    Generator g = new Generator(model);
    List<int[]> batch = g.generate(prompts, Generator.Sampling.greedy(8, Set.of()));
    for (int i = 0; i < prompts.size(); i++) {
      int[] alone = g.generate(List.of(prompts.get(i)), Generator.Sampling.greedy(8, Set.of())).get(0);
      assertArrayEquals(alone, batch.get(i), "prompt " + i);
      assertArrayEquals(greedyByRecomputation(prompts.get(i), 8), alone, "prompt " + i + " vs recomputation");
    }
  }

  @Test
  void paddedForwardWithoutCacheMatchesUnpadded() {
    long[] a = {2, 9, 3, 5, 8}, b = {4, 1};
    long[] padded = {0, 0, 0, 4, 1};
    NDArray tokens = TestModels.tokens(m, new long[][] {a, padded});
    NDArray valid = m.create(new float[] {1, 1, 1, 1, 1, 0, 0, 0, 1, 1}).reshape(2, 5);
    NDArray pos = TestModels.tokens(m, new long[][] {{0, 1, 2, 3, 4}, {0, 0, 0, 0, 1}});
    double[] got = model.forward(tokens, new DecoderLM.Options().attentionMask(valid).positions(pos)).logits().toDoubleArray();
    double[] alone = model.logits(TestModels.tokens(m, new long[][] {b})).toDoubleArray();
    int v = c.vocabSize();
    for (int t = 0; t < 2; t++) {
      for (int k = 0; k < v; k++) assertEquals(alone[t * v + k], got[(5 + 3 + t) * v + k], 1e-10, "t=" + t + " k=" + k);
    }
  }

  @Test
  void listenerSeesEveryTokenInOrder() {
    List<int[]> prompts = List.of(new int[] {1, 4}, new int[] {2, 9, 3});
    List<List<Integer>> heard = List.of(new ArrayList<>(), new ArrayList<>());
    var s = new Generator.Sampling(9, 1.0, 0.9, Set.of(), 3);
    List<int[]> got = new Generator(model).generate(prompts, s, (row, token) -> heard.get(row).add(token));
    for (int r = 0; r < 2; r++) {
      assertArrayEquals(got.get(r), heard.get(r).stream().mapToInt(Integer::intValue).toArray(), "row " + r);
    }
  }

  @Test
  void stopTokenEndsARowAndIsIncluded() {
    int[] free = new Generator(model).generate(List.of(new int[] {1, 4}), Generator.Sampling.greedy(10, Set.of())).get(0);
    int stop = free[2];
    int[] stopped = new Generator(model).generate(List.of(new int[] {1, 4}), Generator.Sampling.greedy(10, Set.of(stop))).get(0);
    int first = 0;
    while (free[first] != stop) first++;
    assertArrayEquals(Arrays.copyOf(free, first + 1), stopped);
  }

  @Test
  void seededSamplingIsReproducibleAndSeedsDiffer() {
    Generator g = new Generator(model);
    List<int[]> prompts = List.of(new int[] {1, 4, 7}, new int[] {3});
    var s42 = new Generator.Sampling(24, 1.0, 0.95, Set.of(), 42);
    List<int[]> a = g.generate(prompts, s42);
    List<int[]> b = g.generate(prompts, s42);
    List<int[]> other = g.generate(prompts, new Generator.Sampling(24, 1.0, 0.95, Set.of(), 43));
    for (int i = 0; i < prompts.size(); i++) {
      assertArrayEquals(a.get(i), b.get(i), "same seed, row " + i);
      assertFalse(Arrays.equals(a.get(i), other.get(i)), "seeds 42 and 43 gave the same 24 tokens in row " + i);
    }
  }

  /** {@code free} cut after its first token in {@code stop} (the stop token kept), as a stopped row should end. */
  private static int[] cutAtStop(int[] free, int stop) {
    for (int i = 0; i < free.length; i++) if (free[i] == stop) return Arrays.copyOf(free, i + 1);
    return free;
  }

  /**
   * A stop token that ends one row early while another row never emits it; rows that stop leave the batch, and
   * every row must still produce exactly its unstopped tokens up to (and including) its first stop token.
   */
  private void checkRowsLeaving(Generator.Sampling noStop, java.util.function.IntFunction<Generator.Sampling> withStop) {
    List<int[]> prompts = List.of(new int[] {1, 4, 7}, new int[] {2, 9, 3, 5, 8, 6, 10}, new int[] {0, 5}, new int[] {12}, new int[] {3, 3});
    Generator g = new Generator(model);
    int before = model.manager().getManagedArrays().size();
    List<int[]> free = g.generate(prompts, noStop);
    int stop = -1;
    for (int r = 0; r < prompts.size() && stop < 0; r++) {
      for (int i = 0; i < 4 && stop < 0; i++) {
        int cand = free.get(r)[i];
        long untouched = free.stream().filter(f -> Arrays.stream(f).noneMatch(t -> t == cand)).count();
        if (untouched > 0) stop = cand;
      }
    }
    assertTrue(stop >= 0, "degenerate test: no token ends one row while sparing another");
    List<int[]> stopped = g.generate(prompts, withStop.apply(stop));
    int early = 0, full = 0;
    for (int r = 0; r < prompts.size(); r++) {
      int[] want = cutAtStop(free.get(r), stop);
      assertArrayEquals(want, stopped.get(r), "prompt " + r + " (stop token " + stop + ")");
      if (want.length < free.get(r).length) early++;
      else full++;
    }
    assertTrue(early > 0 && full > 0, "degenerate test: " + early + " rows stopped early, " + full + " ran to the end");
    assertEquals(before, model.manager().getManagedArrays().size(), "arrays left in the weights' manager");
  }

  @Test
  void finishedRowsLeavingTheBatchDoNotChangeOtherRowsGreedy() {
    checkRowsLeaving(Generator.Sampling.greedy(12, Set.of()), stop -> Generator.Sampling.greedy(12, Set.of(stop)));
  }

  @Test
  void finishedRowsLeavingTheBatchDoNotChangeOtherRowsSampled() {
    checkRowsLeaving(new Generator.Sampling(12, 1.0, 0.9, Set.of(), 7), stop -> new Generator.Sampling(12, 1.0, 0.9, Set.of(stop), 7));
  }

  /** The plain top-p sampler: sort all ids by probability (ties by id), cut at topP, draw. */
  private static int referenceSample(float[] logits, int off, int v, Generator.Sampling s, Random rng) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < v; i++) max = Math.max(max, logits[off + i]);
    double[] p = new double[v];
    double z = 0;
    for (int i = 0; i < v; i++) z += (p[i] = Math.exp((logits[off + i] - max) / s.temperature()));
    Integer[] order = new Integer[v];
    for (int i = 0; i < v; i++) order[i] = i;
    Arrays.sort(order, (a, c) -> Double.compare(p[c], p[a])); // stable: ties stay in id order
    int keep = v;
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
    double u = rng.nextDouble() * kept;
    for (int i = 0; i < keep; i++) {
      u -= p[order[i]];
      if (u <= 0) return order[i];
    }
    return order[keep - 1];
  }

  /** The thresholded top-p (sorts only likely ids) draws exactly what sorting every id draws, seed for seed. */
  @Test
  void thresholdedTopPEqualsFullSort() {
    Random data = new Random(11);
    int checked = 0;
    for (int v : new int[] {7, 300, 5000}) {
      for (double temperature : new double[] {0.3, 0.6, 1.0, 3.0}) {
        for (double topP : new double[] {0.5, 0.95, 0.999999}) {
          float[] logits = new float[v];
          for (int i = 0; i < v; i++) logits[i] = (float) (data.nextGaussian() * 3);
          logits[data.nextInt(v)] = logits[data.nextInt(v)]; // a tie
          var s = new Generator.Sampling(1, temperature, topP, Set.of(), 0);
          for (int seed = 0; seed < 20; seed++) {
            assertEquals(referenceSample(logits, 0, v, s, new Random(seed)), Generator.sample(logits, 0, v, s, new Random(seed)),
                "V " + v + ", T " + temperature + ", top-p " + topP + ", seed " + seed);
            checked++;
          }
        }
      }
    }
    assertEquals(720, checked);
  }

  /**
   * Top-p against the exact nucleus distribution: softmax(l / T), keep the most likely tokens until their mass
   * reaches p, renormalise. 200k draws; each kept token's frequency must lie within 5 standard errors
   * (sqrt(q(1-q)/n)) of its exact probability q, and tokens outside the nucleus must never appear.
   */
  @Test
  void topPMatchesExactNucleusDistribution() {
    float[] logits = {1.0f, 3.0f, -0.5f, 2.2f, 0.3f, 1.9f, -2f};
    double temperature = 0.7, topP = 0.8;
    double[] p = new double[logits.length];
    double z = 0;
    for (int i = 0; i < p.length; i++) z += (p[i] = Math.exp(logits[i] / temperature));
    for (int i = 0; i < p.length; i++) p[i] /= z;
    // By hand: order by probability is 1, 3, 5, 0, 4, 2, 6.
    int[] order = {1, 3, 5, 0, 4, 2, 6};
    double[] exact = new double[p.length];
    double mass = 0;
    int kept = 0;
    while (mass < topP) mass += p[order[kept++]];
    for (int i = 0; i < kept; i++) exact[order[i]] = p[order[i]] / mass;
    assertTrue(kept >= 2 && kept < p.length, "test should truncate the tail, kept " + kept);

    var s = new Generator.Sampling(1, temperature, topP, Set.of(), 0);
    Random rng = new Random(2024);
    int n = 200_000;
    int[] counts = new int[p.length];
    for (int i = 0; i < n; i++) counts[Generator.sample(logits, 0, logits.length, s, rng)]++;
    for (int i = 0; i < p.length; i++) {
      double freq = counts[i] / (double) n;
      if (exact[i] == 0) {
        assertEquals(0, counts[i], "token " + i + " is outside the nucleus but was drawn");
      } else {
        double se = Math.sqrt(exact[i] * (1 - exact[i]) / n);
        assertTrue(Math.abs(freq - exact[i]) < 5 * se, "token " + i + ": frequency " + freq + " vs exact " + exact[i] + " (5 se = " + 5 * se + ")");
      }
    }
  }

  @Test
  void greedyOnGivenLogitsIsArgmax() {
    float[] logits = {0.1f, -3f, 7f, 6.9f, 2f, 0f};
    assertEquals(2, Generator.sample(logits, 0, 6, Generator.Sampling.greedy(1, Set.of()), new Random(0)));
    assertEquals(4, Generator.sample(new float[] {9, 9, 1, 0, 5, 7, 8, 2}, 2, 6, Generator.Sampling.greedy(1, Set.of()), new Random(0)));
  }
}
