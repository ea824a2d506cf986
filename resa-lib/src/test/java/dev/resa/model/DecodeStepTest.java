package dev.resa.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import dev.resa.testing.Managed;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link DecodeStep} against the obviously-correct way: each row's whole (unpadded) sequence recomputed by the
 * full forward, last position's logits, at every step of a left-padded batch whose rows leave it part-way.
 */
class DecodeStepTest {
  @Managed private NDManager m;

  static Stream<Arguments> configs() {
    return Stream.of(
        Arguments.of("qwen2, GQA 4/2, half RoPE, qkv bias, tied", TestModels.config(ModelConfig.Architecture.QWEN2, ModelConfig.Rope.HALF, true, true, 2, 13)),
        Arguments.of("llama, GQA 4/2, interleaved RoPE, no bias, untied", TestModels.config(ModelConfig.Architecture.LLAMA, ModelConfig.Rope.INTERLEAVED, false, false, 2, 13)),
        Arguments.of("qwen2, 2 heads over 2 (no grouping), bias", ModelConfig.builder(ModelConfig.Architecture.QWEN2).hiddenSize(8).numLayers(3).numHeads(2).intermediateSize(12)
            .vocabSize(13).tieEmbeddings(true).maxPositions(32).build()));
  }

  /** Logits of the last position of {@code row}, recomputed from scratch. */
  private static double[] recompute(DecoderLM model, List<Long> row) {
    long[] seq = row.stream().mapToLong(Long::longValue).toArray();
    int v = model.config().vocabSize();
    try (NDManager scope = model.stepScope()) {
      double[] all = model.logits(TestModels.tokens(scope, new long[][] {seq})).toType(DataType.FLOAT64, false).toDoubleArray();
      return Arrays.copyOfRange(all, (seq.length - 1) * v, seq.length * v);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("configs")
  void stepLogitsEqualFullRecomputationWhileRowsLeave(String name, ModelConfig c) {
    try (DecoderLM model = TestModels.random(c, 5, m)) {
      checkAgainstRecomputation(model, 1e-10);
    }
  }

  @Test
  void float32StepMatchesRecomputation() {
    ModelConfig c = TestModels.config(ModelConfig.Architecture.QWEN2, ModelConfig.Rope.HALF, true, true, 2, 13);
    try (DecoderLM model = TestModels.model(c, TestModels.randomValues(c, 9, 0.5), m, DataType.FLOAT32)) {
      checkAgainstRecomputation(model, 2e-4);
    }
  }

  /**
   * Three prompts of lengths 3, 6 and 1 (left-padded to 6), prefilled by the general forward, then 7 steps of
   * {@link DecodeStep} fed random tokens; row 1 leaves after step 2 and row 0 after step 4.
   */
  private void checkAgainstRecomputation(DecoderLM model, double tol) {
    ModelConfig c = model.config();
    int v = c.vocabSize();
    List<List<Long>> seqs = new ArrayList<>(List.of(new ArrayList<>(List.of(1L, 4L, 7L)), new ArrayList<>(List.of(2L, 9L, 3L, 5L, 8L, 6L)),
        new ArrayList<>(List.of(12L))));
    int longest = 6, steps = 7;
    int[] pads = {3, 0, 5};
    long[][] tok = new long[3][longest], pos = new long[3][longest];
    for (int r = 0; r < 3; r++) {
      for (int t = 0; t < longest; t++) {
        tok[r][t] = t < pads[r] ? 0 : seqs.get(r).get(t - pads[r]);
        pos[r][t] = Math.max(0, t - pads[r]);
      }
    }
    double[] weightsBefore = model.weights().get("model.layers.0.self_attn.q_proj.weight").toType(DataType.FLOAT64, false).toDoubleArray();
    int before = model.manager().getManagedArrays().size();
    Random rng = new Random(3);
    int[] rows = {0, 1, 2};
    try (KvCache cache = new KvCache(c, m, 3, longest + steps, model.weights().get("model.embed_tokens.weight").getDataType());
         DecodeStep step = new DecodeStep(model, longest + steps)) {
      cache.setLeftPadding(pads);
      try (NDManager scope = model.stepScope()) {
        model.forward(TestModels.tokens(scope, tok), new DecoderLM.Options().decode(cache).positions(TestModels.tokens(scope, pos)));
      }
      for (int s = 0; s < steps; s++) {
        if (s == 2) rows = keep(cache, rows, new int[] {0, 2}); // prompt 1 leaves
        if (s == 4) rows = keep(cache, rows, new int[] {1}); // prompt 0 leaves, prompt 2 decodes alone
        long[] feed = new long[rows.length], at = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
          List<Long> seq = seqs.get(rows[i]);
          at[i] = seq.size();
          feed[i] = rng.nextInt(v);
          seq.add(feed[i]);
        }
        double[] got;
        try (NDManager scope = model.manager().newSubManager()) {
          NDArray logits = step.logits(scope, cache, (PtNDArray) scope.create(feed), (PtNDArray) scope.create(at));
          assertEquals(new Shape(rows.length, 1, v), logits.getShape());
          got = logits.toType(DataType.FLOAT64, false).toDoubleArray();
        }
        for (int i = 0; i < rows.length; i++) {
          double[] want = recompute(model, seqs.get(rows[i]));
          for (int k = 0; k < v; k++) {
            assertEquals(want[k], got[i * v + k], tol * Math.max(1, Math.abs(want[k])), "step " + s + " prompt " + rows[i] + " logit " + k);
          }
        }
      }
    }
    assertEquals(before, model.manager().getManagedArrays().size(), "arrays left in the weights' manager");
    assertArrayEquals(weightsBefore, model.weights().get("model.layers.0.self_attn.q_proj.weight").toType(DataType.FLOAT64, false).toDoubleArray(),
        "building the fused weights changed the model's own");
  }

  /** Keeps cache rows {@code which} (indices into the current rows) and returns their prompt ids. */
  private static int[] keep(KvCache cache, int[] rows, int[] which) {
    cache.keepRows(which);
    int[] kept = new int[which.length];
    for (int i = 0; i < which.length; i++) kept[i] = rows[which[i]];
    assertTrue(cache.batch() == kept.length);
    return kept;
  }
}
