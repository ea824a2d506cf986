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
  private final ModelConfig c = TestModels.config("qwen2", ModelConfig.Rope.HALF, true, true, 2, 13);

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
        double[] cached = model.forward(TestModels.tokens(m, new long[][] {feed}), new DecoderLM.Options().cache(cache).lastPositionOnly())
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
