package dev.resa.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.resa.testing.Managed;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The position-chunked Stage-II KL equals the one-piece computation and a plain-Java sum, with exact gradients. */
class KlChunkedTest {
  private static final int N = 7, D = 5, V = 11;
  @Managed private NDManager m;

  private NDArray random(long seed, double std, long... shape) {
    Random r = new Random(seed);
    double[] v = new double[Math.toIntExact(new Shape(shape).size())];
    for (int i = 0; i < v.length; i++) v[i] = std * r.nextGaussian();
    return m.create(v, new Shape(shape)); // float64
  }

  private static final double[] WEIGHTS = {1, 1, 0, 1, 0, 1, 1};

  /** Obviously-correct KL: explicit loops over rows and vocabulary, in double. */
  private static double reference(double[] xt, double[] xs, double[] w, double[] rowW) {
    double total = 0;
    for (int n = 0; n < N; n++) {
      double[] zt = new double[V], zs = new double[V];
      for (int v = 0; v < V; v++) {
        for (int d = 0; d < D; d++) {
          zt[v] += xt[n * D + d] * w[v * D + d];
          zs[v] += xs[n * D + d] * w[v * D + d];
        }
      }
      double lt = logSumExp(zt), ls = logSumExp(zs), row = 0;
      for (int v = 0; v < V; v++) row += Math.exp(zt[v] - lt) * ((zt[v] - lt) - (zs[v] - ls));
      total += (rowW == null ? 1 : rowW[n]) * row;
    }
    return total;
  }

  private static double logSumExp(double[] z) {
    double max = Double.NEGATIVE_INFINITY, s = 0;
    for (double v : z) max = Math.max(max, v);
    for (double v : z) s += Math.exp(v - max);
    return max + Math.log(s);
  }

  /** Value and gradient w.r.t. xS of {@code loss}, run under autograd. */
  private double[] valueAndGrad(NDArray xS, Function<NDArray, NDArray> loss, double[] grad) {
    NDArray x = xS.duplicate();
    x.setRequiresGradient(true);
    double value;
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray l = loss.apply(x);
      value = l.getDouble();
      gc.backward(l);
    }
    double[] g = x.getGradient().toDoubleArray();
    System.arraycopy(g, 0, grad, 0, g.length);
    return new double[] {value};
  }

  @ParameterizedTest(name = "chunk {0}, weighted {1}")
  @CsvSource({"1, false", "3, false", "3, true", "7, true", "100, false"})
  void chunkedEqualsUnchunkedAndPlainJava(int chunk, boolean weighted) {
    NDArray xT = random(1, 1.5, N, D), xS = random(2, 1.5, N, D), head = random(3, 1.0, V, D);
    NDArray rowW = weighted ? m.create(WEIGHTS) : null;
    double[] gChunked = new double[N * D], gFull = new double[N * D];
    double chunked = valueAndGrad(xS, x -> Losses.klChunked(xT, x, head, rowW, chunk), gChunked)[0];
    double full = valueAndGrad(xS, x -> Losses.klUnchunked(xT, x, head, rowW), gFull)[0];
    double plain = reference(xT.toDoubleArray(), xS.toDoubleArray(), head.toDoubleArray(), weighted ? WEIGHTS : null);
    System.out.printf("chunk %d weighted %s: KL chunked %.15f, unchunked %.15f, plain Java %.15f%n", chunk, weighted, chunked, full, plain);
    assertTrue(plain > 0.1, "the test KL should be far from zero: " + plain);
    assertEquals(plain, chunked, 1e-12 * plain);
    assertEquals(plain, full, 1e-12 * plain);
    double maxDiff = 0, maxG = 0;
    for (int i = 0; i < gFull.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(gFull[i] - gChunked[i]));
      maxG = Math.max(maxG, Math.abs(gFull[i]));
    }
    assertTrue(maxG > 1e-3, "gradient should be non-trivial");
    assertTrue(maxDiff < 1e-12 * Math.max(1, maxG), "max |grad chunked - grad unchunked| = " + maxDiff);
  }

  /** Central finite differences of the chunked loss's value against its autograd gradient, in float64. */
  @Test
  void gradientMatchesFiniteDifferences() {
    NDArray xT = random(4, 1.5, N, D), xS = random(5, 1.5, N, D), head = random(6, 1.0, V, D);
    NDArray rowW = m.create(WEIGHTS);
    double[] grad = new double[N * D];
    valueAndGrad(xS, x -> Losses.klChunked(xT, x, head, rowW, 3), grad);
    double[] x0 = xS.toDoubleArray();
    double h = 1e-6, worst = 0;
    for (int i = 0; i < x0.length; i++) {
      double[] plus = x0.clone(), minus = x0.clone();
      plus[i] += h;
      minus[i] -= h;
      double fp = Losses.klChunked(xT, m.create(plus, new Shape(N, D)), head, rowW, 3).getDouble();
      double fm = Losses.klChunked(xT, m.create(minus, new Shape(N, D)), head, rowW, 3).getDouble();
      double fd = (fp - fm) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - grad[i]) / Math.max(1e-3, Math.abs(fd) + Math.abs(grad[i])));
    }
    System.out.printf("chunked KL: max relative |autograd - finite difference| = %.2e over %d entries%n", worst, x0.length);
    assertTrue(worst < 1e-6, "worst relative error " + worst);
  }

  /** The surrogate passes the gradient on: parameters upstream of xS get the same gradient as through full logits. */
  @Test
  void gradientReachesParametersUpstream() {
    NDArray xT = random(7, 1.5, N, D), u = random(8, 1.0, N, D), a = random(9, 0.7, D, D), head = random(10, 1.0, V, D);
    double[] viaChunks = new double[D * D], viaFull = new double[D * D];
    valueAndGrad(a, p -> Losses.klChunked(xT, u.matMul(p).tanh(), head, null, 2), viaChunks);
    valueAndGrad(a, p -> Losses.klUnchunked(xT, u.matMul(p).tanh(), head, null), viaFull);
    for (int i = 0; i < viaFull.length; i++) assertEquals(viaFull[i], viaChunks[i], 1e-12);
  }

  @Test
  void trainableHeadOrBadChunkIsRefused() {
    NDArray x = random(1, 1, N, D), head = random(3, 1.0, V, D);
    assertThrows(IllegalArgumentException.class, () -> Losses.klChunked(x, x, head, null, 0));
    head.setRequiresGradient(true);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Losses.klChunked(x, x, head, null, 4));
    assertTrue(e.getMessage().contains("frozen"), e.getMessage());
    assertEquals(DataType.FLOAT64, x.getDataType());
  }
}
