package dev.resa.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.resa.core.Djl;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LossesTest {
  private static final int B = 2, T = 3, V = 5;

  /** Slow, obviously correct cross-entropy: mean over counted positions of logsumexp(z) - z[target]. */
  private static double reference(double[] z, long[] targets, double[] mask) {
    double total = 0, count = 0;
    for (int i = 0; i < B * T; i++) {
      double w = mask == null ? 1 : mask[i];
      if (w == 0) continue;
      double max = Double.NEGATIVE_INFINITY;
      for (int v = 0; v < V; v++) max = Math.max(max, z[i * V + v]);
      double sum = 0;
      for (int v = 0; v < V; v++) sum += Math.exp(z[i * V + v] - max);
      total += w * (max + Math.log(sum) - z[i * V + (int) targets[i]]);
      count += w;
    }
    return total / count;
  }

  private static double[] randomLogits(long seed) {
    Random r = new Random(seed);
    double[] z = new double[B * T * V];
    for (int i = 0; i < z.length; i++) z[i] = 3 * r.nextGaussian();
    return z;
  }

  private static final long[] TARGETS = {0, 4, 2, 1, 3, 3};
  private static final double[] MASK = {1, 0, 1, 1, 1, 0};

  private static double lossOf(NDManager m, double[] z, double[] mask) {
    NDArray logits = m.create(z, new Shape(B, T, V));
    NDArray targets = m.create(TARGETS, new Shape(B, T));
    NDArray mk = mask == null ? null : m.create(mask, new Shape(B, T));
    return Losses.crossEntropy(logits, targets, mk).getDouble();
  }

  @Test
  void valueMatchesTheSlowReference() {
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu())) {
      double[] z = randomLogits(1);
      assertEquals(reference(z, TARGETS, null), lossOf(m, z, null), 1e-12);
      assertEquals(reference(z, TARGETS, MASK), lossOf(m, z, MASK), 1e-12);
      double[] uniform = new double[B * T * V]; // all-equal logits: loss = log V exactly
      assertEquals(Math.log(V), lossOf(m, uniform, null), 1e-12);
    }
  }

  @Test
  void gradientMatchesCentralFiniteDifferencesInFloat64() {
    for (double[] mask : new double[][] {null, MASK}) {
      try (NDManager m = Djl.newManager(ai.djl.Device.cpu())) {
        double[] z = randomLogits(2);
        NDArray logits = m.create(z, new Shape(B, T, V));
        logits.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray mk = mask == null ? null : m.create(mask, new Shape(B, T));
          gc.backward(Losses.crossEntropy(logits, m.create(TARGETS, new Shape(B, T)), mk));
        }
        double[] analytic = logits.getGradient().toDoubleArray();
        double h = 1e-6;
        for (int i = 0; i < z.length; i++) {
          double[] plus = z.clone(), minus = z.clone();
          plus[i] += h;
          minus[i] -= h;
          double numeric = (lossOf(m, plus, mask) - lossOf(m, minus, mask)) / (2 * h);
          assertEquals(numeric, analytic[i], 1e-8 + 1e-6 * Math.abs(numeric), "d loss / d logit " + i + (mask == null ? "" : " (masked)"));
        }
      }
    }
  }
}
