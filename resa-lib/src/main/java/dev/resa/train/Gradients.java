package dev.resa.train;

import ai.djl.ndarray.NDArray;
import java.util.List;

/** Gradient utilities that DJL lacks (its {@code optClipGrad} clamps values, it does not clip norms). */
public final class Gradients {
  private Gradients() {}

  /**
   * Scales all gradients so their global L2 norm is at most {@code maxNorm}, as
   * {@code torch.nn.utils.clip_grad_norm_}; returns the norm before clipping.
   */
  public static double clipGlobalNorm(List<NDArray> params, double maxNorm) {
    double sq = 0;
    for (NDArray p : params) {
      try (NDArray g = p.getGradient(); NDArray s = g.square().sum()) {
        sq += s.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
      }
    }
    double norm = Math.sqrt(sq);
    double scale = maxNorm / (norm + 1e-6);
    if (maxNorm > 0 && scale < 1) {
      for (NDArray p : params) {
        try (NDArray g = p.getGradient()) {
          g.muli(scale);
        }
      }
    }
    return norm;
  }

  /** Sets every gradient to zero. */
  public static void zero(List<NDArray> params) {
    for (NDArray p : params) {
      try (NDArray g = p.getGradient()) {
        g.subi(g);
      }
    }
  }
}
