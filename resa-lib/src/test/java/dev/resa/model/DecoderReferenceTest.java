package dev.resa.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.resa.core.Djl;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import ai.djl.Device;

/** DecoderLM against the slow loop reference, and the two RoPE conventions against each other. */
class DecoderReferenceTest {

  @ParameterizedTest(name = "{0} rope={1} bias={2} tied={3}")
  @CsvSource({"QWEN2, HALF, true, true", "QWEN2, HALF, true, false", "LLAMA, INTERLEAVED, false, true", "LLAMA, HALF, false, false"})
  void forwardMatchesSlowReference(ModelConfig.Architecture type, ModelConfig.Rope rope, boolean bias, boolean tied) {
    ModelConfig c = TestModels.config(type, rope, bias, tied, 2);
    Map<String, double[]> values = TestModels.randomValues(c, 11, 0.5);
    int[][] rows = {{1, 4, 7, 2, 9, 3, 0}, {10, 10, 5, 6, 1, 8, 2}};
    ReferenceDecoder ref = new ReferenceDecoder(c, values);
    try (NDManager m = Djl.newManager(Device.cpu()); DecoderLM model = TestModels.model(c, values, m, DataType.FLOAT64)) {
      long[][] lr = new long[rows.length][];
      for (int b = 0; b < rows.length; b++) lr[b] = java.util.Arrays.stream(rows[b]).asLongStream().toArray();
      double[] got = model.logits(TestModels.tokens(m, lr)).toDoubleArray(); // [B, T, V]
      int t = rows[0].length, v = c.vocabSize();
      double worst = 0, scale = 0;
      for (int b = 0; b < rows.length; b++) {
        double[][] want = ref.logits(rows[b]);
        for (int i = 0; i < t; i++) {
          for (int k = 0; k < v; k++) {
            worst = Math.max(worst, Math.abs(got[(b * t + i) * v + k] - want[i][k]));
            scale = Math.max(scale, Math.abs(want[i][k]));
          }
        }
      }
      assertTrue(scale > 0.1, "logits too small to be a meaningful comparison: " + scale);
      assertTrue(worst < 1e-9, "max |DecoderLM - reference| = " + worst);
    }
  }

  @Test
  void oneRotationMatchesHandComputation() {
    for (ModelConfig.Rope rope : ModelConfig.Rope.values()) {
      ModelConfig c = TestModels.config(ModelConfig.Architecture.LLAMA, rope, false, true, 1);
      try (NDManager m = Djl.newManager(Device.cpu()); DecoderLM model = TestModels.random(c, 3, m)) {
        double[] x = {0.3, -1.2, 2.0, 0.7}; // one head, E = 4
        int pos = 5;
        double theta = c.ropeTheta();
        double a0 = pos, a1 = pos * Math.pow(theta, -0.5); // angles of pairs 0 and 1: pos * theta^(-2i/E)
        double[] want = rope == ModelConfig.Rope.HALF
            ? new double[] { // pairs (0,2) and (1,3)
                x[0] * Math.cos(a0) - x[2] * Math.sin(a0), x[1] * Math.cos(a1) - x[3] * Math.sin(a1),
                x[2] * Math.cos(a0) + x[0] * Math.sin(a0), x[3] * Math.cos(a1) + x[1] * Math.sin(a1)}
            : new double[] { // pairs (0,1) and (2,3)
                x[0] * Math.cos(a0) - x[1] * Math.sin(a0), x[0] * Math.sin(a0) + x[1] * Math.cos(a0),
                x[2] * Math.cos(a1) - x[3] * Math.sin(a1), x[2] * Math.sin(a1) + x[3] * Math.cos(a1)};
        NDArray[] tables = model.ropeAt(null, pos, 1); // the model's own tables at position 5
        double[] got = model.applyRope(m.create(x, new Shape(1, 1, 1, 4)), tables).toDoubleArray();
        for (int i = 0; i < 4; i++) assertEquals(want[i], got[i], 1e-15, rope + " coordinate " + i);
      }
    }
  }

  /**
   * HF's llama conversion permutes q/k rows per head so that adjacent pairs (2i, 2i+1) become (i, i + E/2):
   * new row h*E + j*E/2 + i = old row h*E + 2i + j. With that permutation the HALF model must equal the
   * INTERLEAVED one.
   */
  @Test
  void halfAndInterleavedAgreeUnderHfPermutation() {
    ModelConfig inter = TestModels.config(ModelConfig.Architecture.LLAMA, ModelConfig.Rope.INTERLEAVED, true, false, 2);
    ModelConfig half = TestModels.config(ModelConfig.Architecture.LLAMA, ModelConfig.Rope.HALF, true, false, 2);
    Map<String, double[]> values = TestModels.randomValues(inter, 5, 0.5);
    Map<String, double[]> permuted = new LinkedHashMap<>();
    int e = inter.headDim(), d = inter.hiddenSize();
    for (var en : values.entrySet()) {
      String name = en.getKey();
      boolean q = name.contains("q_proj"), k = name.contains("k_proj");
      if (!q && !k) {
        permuted.put(name, en.getValue());
        continue;
      }
      int cols = name.endsWith(".bias") ? 1 : d;
      double[] src = en.getValue(), dst = new double[src.length];
      int heads = (q ? inter.numHeads() : inter.numKvHeads());
      for (int h = 0; h < heads; h++) {
        for (int j = 0; j < 2; j++) {
          for (int i = 0; i < e / 2; i++) {
            System.arraycopy(src, (h * e + 2 * i + j) * cols, dst, (h * e + j * e / 2 + i) * cols, cols);
          }
        }
      }
      permuted.put(name, dst);
    }
    try (NDManager m = Djl.newManager(Device.cpu());
         DecoderLM a = TestModels.model(inter, values, m, DataType.FLOAT64);
         DecoderLM b = TestModels.model(half, permuted, m, DataType.FLOAT64);
         DecoderLM unpermuted = TestModels.model(half, values, m, DataType.FLOAT64)) {
      NDArray tokens = TestModels.tokens(m, new long[][] {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}});
      NDArray la = a.logits(tokens);
      assertTrue(TestModels.maxAbsDiff(la, b.logits(tokens)) < 1e-12, "permuted HALF != INTERLEAVED");
      assertTrue(TestModels.maxAbsDiff(la, unpermuted.logits(tokens)) > 1e-3, "the conventions must actually differ");
    }
  }
}
