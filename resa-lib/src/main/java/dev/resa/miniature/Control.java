package dev.resa.miniature;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.resa.model.DecoderLM;
import java.util.Random;
import java.util.function.ToDoubleFunction;
import java.util.function.UnaryOperator;

/**
 * The random-distortion control of Stage II: {@code h + s (h − mu) M}, M Gaussian [D, D] / sqrt(D), with the scale
 * s bisected so the splice's starting KL on the plain base matches the SAE's: the same disruption, no SAE.
 */
final class Control {
  private Control() {}

  static UnaryOperator<NDArray> calibrated(DecoderLM model, NDManager m, int layer, double targetKl, ToDoubleFunction<UnaryOperator<NDArray>> klOf,
      float[] mean, long seed) {
    int d = model.config().hiddenSize();
    Random rng = new Random(seed);
    float[] w = new float[d * d];
    for (int i = 0; i < w.length; i++) w[i] = (float) (rng.nextGaussian() / Math.sqrt(d));
    NDArray mat = m.create(w, new Shape(d, d)); // [D, D]
    NDArray mu = m.create(mean); // [D]
    double lo = 0, hi = 4;
    for (int it = 0; it < 18; it++) {
      double s = (lo + hi) / 2;
      if (klOf.applyAsDouble(distortion(mat, mu, s)) < targetKl) lo = s;
      else hi = s;
    }
    return distortion(mat, mu, (lo + hi) / 2);
  }

  private static UnaryOperator<NDArray> distortion(NDArray mat, NDArray mu, double s) {
    return h -> h.add(h.sub(mu).matMul(mat).mul(s)); // [B, T, D]
  }
}
