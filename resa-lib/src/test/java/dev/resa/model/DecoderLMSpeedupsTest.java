package dev.resa.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.resa.core.DataDir;
import dev.resa.core.Djl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Guards the performance rewrites of {@link DecoderLM}: RoPE as table multiplies, q pre-scaled. */
class DecoderLMSpeedupsTest {
  private static final int E = 6, T = 5, HEADS = 2;

  private static ModelConfig config(ModelConfig.Rope rope) {
    return ModelConfig.builder(ModelConfig.Architecture.LLAMA).hiddenSize(HEADS * E).numLayers(1).numHeads(HEADS).headDim(E)
        .intermediateSize(8).vocabSize(11).ropeTheta(500.0).rmsEps(1e-5).tieEmbeddings(true).maxPositions(16).rope(rope).build();
  }

  /** Slow RoPE: rotates each pair (a, b) of every head by p * theta^(-2i/E), pairs chosen by the convention. */
  private static double[] reference(double[] x, int[] pos, ModelConfig.Rope rope) {
    double[] out = new double[x.length];
    for (int h = 0; h < HEADS; h++) {
      for (int t = 0; t < T; t++) {
        int base = (h * T + t) * E;
        for (int i = 0; i < E / 2; i++) {
          int ia = rope == ModelConfig.Rope.HALF ? i : 2 * i;
          int ib = rope == ModelConfig.Rope.HALF ? i + E / 2 : 2 * i + 1;
          double angle = pos[t] * Math.pow(500.0, -2.0 * i / E);
          double a = x[base + ia], b = x[base + ib];
          out[base + ia] = a * Math.cos(angle) - b * Math.sin(angle);
          out[base + ib] = b * Math.cos(angle) + a * Math.sin(angle);
        }
      }
    }
    return out;
  }

  @Test
  void ropeMatchesTheSlowReferenceInBothConventions() {
    Random r = new Random(3);
    double[] x = new double[HEADS * T * E];
    for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian();
    for (ModelConfig.Rope rope : ModelConfig.Rope.values()) {
      ModelConfig c = config(rope);
      try (NDManager m = Djl.newManager(ai.djl.Device.cpu());
           DecoderLM model = new DecoderLM(c, Weights.random(c, m.newSubManager(), 1, DataType.FLOAT32))) {
        NDArray in = m.create(x, new Shape(1, HEADS, T, E)).toType(DataType.FLOAT32, false);
        // contiguous positions after a cache of 4 tokens
        float[] got = model.applyRope(in, model.ropeAt(null, 4, T)).toFloatArray();
        double[] want = reference(x, new int[] {4, 5, 6, 7, 8}, rope);
        for (int i = 0; i < x.length; i++) assertEquals(want[i], got[i], 1e-5, rope + " coordinate " + i);
        // explicit position ids, as left-padded batches use
        NDArray pos = m.create(new long[] {0, 0, 1, 2, 9}, new Shape(1, T));
        got = model.applyRope(in, model.ropeAt(pos, 0, T)).toFloatArray();
        want = reference(x, new int[] {0, 0, 1, 2, 9}, rope);
        for (int i = 0; i < x.length; i++) assertEquals(want[i], got[i], 1e-5, rope + " (position ids) coordinate " + i);
      }
    }
  }

  @Test
  void greedyStories260kStillMatchesTheLlama2cOracle() throws Exception {
    Path dir = DataDir.resolve(null).resolve("models/stories260K");
    Assumptions.assumeTrue(Files.isRegularFile(dir.resolve("stories260K.bin")), "skipped: " + dir + " not found (needs the shared data folder)");
    int[] oracle = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
        410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352};
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu()); DecoderLM model = Llama2c.load(dir.resolve("stories260K.bin"), m)) {
      int[] got = new Generator(model).generate(List.of(new int[] {1}), Generator.Sampling.greedy(40, Set.of())).get(0);
      assertArrayEquals(oracle, got);
    }
  }
}
