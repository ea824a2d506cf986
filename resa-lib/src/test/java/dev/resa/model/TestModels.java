package dev.resa.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Small models for tests: weights large enough (std 0.5) that attention and SwiGLU are far from linear. */
final class TestModels {
  private TestModels() {}

  static ModelConfig config(ModelConfig.Architecture type, ModelConfig.Rope rope, boolean bias, boolean tied, int layers) {
    return config(type, rope, bias, tied, layers, 11);
  }

  /** hidden 8, 4 query heads over 2 KV heads (GQA), head dim 4, SwiGLU width 12, 32 positions. */
  static ModelConfig config(ModelConfig.Architecture type, ModelConfig.Rope rope, boolean bias, boolean tied, int layers, int vocab) {
    return ModelConfig.builder(type).hiddenSize(8).numLayers(layers).numHeads(4).numKvHeads(2).headDim(4).intermediateSize(12).vocabSize(vocab)
        .qkvBias(bias).tieEmbeddings(tied).maxPositions(32).rope(rope).build();
  }

  /** Random values for every tensor of {@code c}; norms near 1, matrices and biases normal(0, std). */
  static Map<String, double[]> randomValues(ModelConfig c, long seed, double std) {
    Random rng = new Random(seed);
    Map<String, double[]> out = new LinkedHashMap<>();
    for (String name : Weights.names(c)) {
      double[] v = new double[Math.toIntExact(Weights.expectedShape(c, name).size())];
      boolean norm = name.endsWith("norm.weight");
      for (int i = 0; i < v.length; i++) v[i] = norm ? 1 + 0.2 * rng.nextGaussian() : std * rng.nextGaussian();
      out.put(name, v);
    }
    return out;
  }

  static DecoderLM model(ModelConfig c, Map<String, double[]> values, NDManager m, DataType dtype) {
    Weights w = new Weights(m.newSubManager());
    for (var e : values.entrySet()) {
      NDArray a = w.manager().create(e.getValue(), Weights.expectedShape(c, e.getKey()));
      w.put(e.getKey(), dtype == DataType.FLOAT64 ? a : a.toType(dtype, false));
    }
    return new DecoderLM(c, w);
  }

  static DecoderLM random(ModelConfig c, long seed, NDManager m) {
    return model(c, randomValues(c, seed, 0.5), m, DataType.FLOAT64);
  }

  static NDArray tokens(NDManager m, long[][] rows) {
    int t = rows[0].length;
    long[] flat = new long[rows.length * t];
    for (int b = 0; b < rows.length; b++) System.arraycopy(rows[b], 0, flat, b * t, t);
    return m.create(flat, new Shape(rows.length, t));
  }

  static double maxAbsDiff(NDArray a, NDArray b) {
    double[] x = a.toType(DataType.FLOAT64, false).toDoubleArray();
    double[] y = b.toType(DataType.FLOAT64, false).toDoubleArray();
    if (x.length != y.length) throw new AssertionError("sizes differ: " + a.getShape() + " vs " + b.getShape());
    double d = 0;
    for (int i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
    return d;
  }
}
