package dev.resa.tuning;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * What Stage II needs from a frozen SAE: its input width and its reconstruction {@code x̂ = SAE(x)}. The
 * reconstruction replaces the residual stream at {@code layers.ℓ} and is computed without gradient, exactly as
 * Resa's {@code sae_reconstruction_hook}.
 */
public interface Splice {
  /** The SAE's full forward (encode, top-k, decode + b_dec): [N, d] to [N, d]. */
  NDArray reconstruct(NDArray x);

  /** d_in, which must equal the model's hidden size. */
  int dIn();

  /** Long-lived tensors the reconstruction reads, so a per-step scope can attach them. */
  default List<NDArray> parameters() {
    return List.of();
  }
}
