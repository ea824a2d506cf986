package dev.resa.train;

import ai.djl.ndarray.NDArray;

/** Losses on logits, all computed in the logits' dtype (fp32 or fp64 for gradient checks). */
public final class Losses {
  private Losses() {}

  /**
   * Mean next-token cross-entropy. {@code logits} [B, T, V], {@code targets} [B, T] int64, {@code mask} [B, T]
   * (1 = count this position) or null for all positions.
   */
  public static NDArray crossEntropy(NDArray logits, NDArray targets, NDArray mask) {
    NDArray logp = logits.logSoftmax(-1); // [B, T, V]
    NDArray nll = logp.gather(targets.expandDims(-1), -1).squeeze(-1).neg(); // [B, T]
    if (mask == null) return nll.mean();
    NDArray m = mask.toType(nll.getDataType(), false);
    return nll.mul(m).sum().div(m.sum().maximum(1));
  }
}
