package dev.resa.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.resa.core.Djl;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradientsTest {
  /** Two parameters whose gradients are (3, 4) and (12): global norm sqrt(9 + 16 + 144) = 13. */
  private static List<NDArray> paramsWithGradients(NDManager m) {
    NDArray p = m.create(new float[] {1f, 1f});
    NDArray q = m.create(new float[] {1f});
    p.setRequiresGradient(true);
    q.setRequiresGradient(true);
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray loss = p.mul(m.create(new float[] {3f, 4f})).sum().add(q.mul(12f).sum());
      gc.backward(loss);
    }
    return List.of(p, q);
  }

  @Test
  void clipsToTheGlobalNormWorkedOutByHand() {
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu())) {
      List<NDArray> ps = paramsWithGradients(m);
      double norm = Gradients.clipGlobalNorm(ps, 6.5);
      assertEquals(13.0, norm, 1e-6);
      double scale = 6.5 / (13.0 + 1e-6); // torch's clip_grad_norm_ formula: max_norm / (norm + 1e-6)
      assertArrayEquals(new float[] {(float) (3 * scale), (float) (4 * scale)}, ps.get(0).getGradient().toFloatArray(), 1e-6f);
      assertArrayEquals(new float[] {(float) (12 * scale)}, ps.get(1).getGradient().toFloatArray(), 1e-6f);
    }
  }

  @Test
  void leavesSmallGradientsAloneAndZeroClears() {
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu())) {
      List<NDArray> ps = paramsWithGradients(m);
      assertEquals(13.0, Gradients.clipGlobalNorm(ps, 20.0), 1e-6);
      assertArrayEquals(new float[] {3f, 4f}, ps.get(0).getGradient().toFloatArray());
      assertArrayEquals(new float[] {12f}, ps.get(1).getGradient().toFloatArray());
      Gradients.zero(ps);
      assertArrayEquals(new float[] {0f, 0f}, ps.get(0).getGradient().toFloatArray());
      assertArrayEquals(new float[] {0f}, ps.get(1).getGradient().toFloatArray());
    }
  }
}
