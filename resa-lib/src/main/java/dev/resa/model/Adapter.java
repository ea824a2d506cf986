package dev.resa.model;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * An additive update to the model's linear projections, e.g. LoRA. The decoder calls {@link #delta} for every
 * projection it applies, with the module's HF path ({@code model.layers.3.self_attn.q_proj}).
 */
public interface Adapter {
  /** The update to add to {@code module}'s output for input {@code x} ([..., in] to [..., out]), or null for none. */
  NDArray delta(String module, NDArray x);

  /** The adapter's own tensors, so per-step scopes can attach them. */
  List<NDArray> parameters();
}
