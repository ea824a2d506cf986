package dev.resa.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW exactly as {@code torch.optim.AdamW}: decoupled weight decay, bias-corrected moments, eps outside the
 * square root. State lives in its own manager; call {@link #step} after the gradient collector is closed.
 */
public final class AdamW extends Optimizer<AdamW.Config> {
  /**
   * @param lr learning rate (overridable per step for schedules).
   * @param beta1 first-moment decay (torch default 0.9).
   * @param beta2 second-moment decay (torch default 0.999).
   * @param eps added to the root of the second moment (torch default 1e-8).
   * @param weightDecay decoupled decay, applied as {@code p -= lr * wd * p} (torch default 0.01).
   */
  public record Config(double lr, double beta1, double beta2, double eps, double weightDecay) {
    public static Config torchDefaults(double lr) {
      return new Config(lr, 0.9, 0.999, 1e-8, 0.01);
    }
  }

  private final Map<NDArray, NDArray[]> moments = new IdentityHashMap<>();

  public AdamW(Config config, NDManager parent) {
    super(config, parent);
  }

  /** One update of every parameter at the configured learning rate. */
  public void step(List<NDArray> params) {
    step(params, config.lr());
  }

  /** One update at learning rate {@code lr} from the autograd gradients, which are read and then zeroed. */
  public void step(List<NDArray> params, double lr) {
    List<NDArray> grads = new ArrayList<>();
    for (NDArray p : params) grads.add(p.getGradient());
    try {
      step(params, grads, lr);
    } finally {
      for (NDArray g : grads) g.close(); // wrappers only: the storage belongs to the parameter
    }
  }

  /** One update at learning rate {@code lr} from explicit gradients ({@code params} order), which are then zeroed. */
  public void step(List<NDArray> params, List<NDArray> grads, double lr) {
    if (grads.size() != params.size()) throw new IllegalArgumentException(params.size() + " parameters but " + grads.size() + " gradients");
    steps++;
    double bc1 = 1 - Math.pow(config.beta1(), steps);
    double bc2 = 1 - Math.pow(config.beta2(), steps);
    for (int i = 0; i < params.size(); i++) {
      NDArray p = params.get(i);
      NDArray g = grads.get(i);
      NDArray[] mv = moments.computeIfAbsent(p, k -> new NDArray[] {state.zeros(k.getShape(), k.getDataType()), state.zeros(k.getShape(), k.getDataType())});
      // Our moments and the gradient are temp-attached, so every temporary lands in this scope. A parameter usually
      // already sits in the caller's step scope, and a nested tempAttach would hand it back to that scope as an owned
      // array, which then frees it on close; parameters are therefore touched with in-place ops only.
      try (NDManager scope = state.newSubManager()) {
        g.tempAttach(scope);
        mv[0].tempAttach(scope);
        mv[1].tempAttach(scope);
        if (config.weightDecay() != 0) p.muli(1 - lr * config.weightDecay());
        mv[0].muli(config.beta1()).addi(g.mul(1 - config.beta1()));
        mv[1].muli(config.beta2()).addi(g.square().muli(1 - config.beta2()));
        NDArray denom = mv[1].div(bc2).sqrt().addi(config.eps());
        p.subi(mv[0].div(denom).muli(lr / bc1));
        g.subi(g); // zero the accumulated gradient (DJL's collector does not)
      }
    }
  }

  /** Moment tensors keyed by parameter order, for checkpoints. */
  public List<NDArray> stateFor(List<NDArray> params) {
    List<NDArray> out = new ArrayList<>();
    for (NDArray p : params) {
      NDArray[] mv = moments.get(p);
      if (mv == null) {
        mv = new NDArray[] {state.zeros(p.getShape(), p.getDataType()), state.zeros(p.getShape(), p.getDataType())};
        moments.put(p, mv);
      }
      out.add(mv[0]);
      out.add(mv[1]);
    }
    return out;
  }

  /** Restores moments and the step counter written by a checkpoint. */
  public void restore(List<NDArray> params, List<NDArray> savedMoments, long savedSteps) {
    List<NDArray> mine = stateFor(params);
    for (int i = 0; i < mine.size(); i++) mine.get(i).set(savedMoments.get(i).toFloatArray());
    steps = savedSteps;
  }
}
