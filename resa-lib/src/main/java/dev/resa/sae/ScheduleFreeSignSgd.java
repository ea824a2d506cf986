package dev.resa.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.resa.train.Optimizer;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * SignSGD inside a Schedule-Free wrapper: sparsify's default optimiser ({@code ScheduleFreeWrapper(SignSGD(lr),
 * momentum=0.95)}, weight-lr power 2, r = 0), with the update of resa-algorithm §1.4. The parameter tensor holds
 * y (where gradients are taken); the optimiser keeps z. Per step, with m the momentum:
 *
 * <pre>
 *   x = y/m + (1 − 1/m)·z              (unextrapolate; z = y at the first step)
 *   z ← z − lr·sign(g)
 *   c = w_t / Σ w,  w_t = (t+1)^r · lr_max^power      (= 1/(t+1) at constant lr)
 *   x ← x + c·(z − x)
 *   y ← x + (1 − m)·(z − x)            (written back into the parameter)
 * </pre>
 *
 * {@link #averaged} gives the x iterate, which is what Resa saves (sparsify's {@code optimizer.eval()}).
 */
public final class ScheduleFreeSignSgd extends Optimizer<ScheduleFreeSignSgd.Config> {
  /**
   * @param lr step size (sparsify auto: 5e-3 / sqrt(n / 2^14), 2.5e-3 for n = 65536).
   * @param momentum m, the interpolation between x and z (sparsify: 0.95).
   * @param weightLrPower power of lr_max in the averaging weight (schedulefree default: 2).
   * @param r power of the step count in the averaging weight (schedulefree default 0: uniform average).
   */
  public record Config(double lr, double momentum, double weightLrPower, double r) {
    public Config {
      if (!(lr > 0)) throw new IllegalArgumentException("lr must be positive, got " + lr);
      if (!(momentum > 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in (0, 1), got " + momentum);
    }

    /** sparsify's settings at learning rate {@code lr}. */
    public static Config sparsify(double lr) {
      return new Config(lr, 0.95, 2.0, 0.0);
    }
  }

  private final Map<NDArray, NDArray> z = new IdentityHashMap<>();
  private double lrMax = -1;
  private double weightSum;

  public ScheduleFreeSignSgd(Config config, NDManager parent) {
    super(config, parent);
  }

  /**
   * One update of every parameter from its gradient (computed at y), {@code grads} in the same order; the
   * gradients are then zeroed.
   */
  public void step(List<NDArray> params, List<NDArray> grads) {
    if (grads.size() != params.size()) throw new IllegalArgumentException(params.size() + " parameters but " + grads.size() + " gradients");
    double m = config.momentum();
    double lr = Math.max(config.lr(), 1e-8);
    lrMax = Math.max(lrMax, lr);
    double weight = Math.pow(steps + 1, config.r()) * Math.pow(lrMax, config.weightLrPower());
    weightSum += weight;
    double c = weight / weightSum;
    for (int i = 0; i < params.size(); i++) {
      NDArray p = params.get(i);
      NDArray g = grads.get(i);
      NDArray zp = z.computeIfAbsent(p, k -> {
        NDArray copy = k.duplicate();
        copy.attach(state);
        return copy;
      });
      // The four lines of the class comment folded into in-place passes, so nothing the size of p is allocated:
      //   z' = z − lr·s,   y' = (1 − c)·y + c·z' − (1 − m)(1 − c)·lr·s,   with s = sign(g)
      NDArray step = g.signi().muli(lr); // lr·s, in g's buffer
      zp.subi(step); // z'
      p.muli(1 - c);
      p.addi(step.muli(-(1 - m) * (1 - c) / c).addi(zp).muli(c)); // c > 0 always (c = 1 at the first step)
      g.subi(g);
    }
    steps++;
  }

  /**
   * The averaged iterate x = y/m + (1 − 1/m)·z of {@code param}, as a new array in {@code manager} (a copy of y
   * before the first step).
   */
  public NDArray averaged(NDArray param, NDManager manager) {
    NDArray zp = z.get(param);
    try (NDManager scope = manager.newSubManager()) {
      param.tempAttach(scope);
      if (zp != null) zp.tempAttach(scope);
      NDArray y = param.stopGradient();
      NDArray x = zp == null ? y.duplicate() : y.mul(1 / config.momentum()).addi(zp.mul(1 - 1 / config.momentum()));
      x.attach(manager);
      return x;
    }
  }

  /** The z iterate of each parameter (copies of y before the first step), for checkpoints. */
  public List<NDArray> zFor(List<NDArray> params) {
    List<NDArray> out = new java.util.ArrayList<>();
    for (NDArray p : params) {
      out.add(z.computeIfAbsent(p, k -> {
        NDArray copy = k.duplicate();
        copy.attach(state);
        return copy;
      }));
    }
    return out;
  }

  /** The scalars of the averaging: {steps, lrMax, weightSum}. */
  public double[] scalars() {
    return new double[] {steps, lrMax, weightSum};
  }

  /** Restores z and the averaging scalars written by a checkpoint ({@link #zFor}, {@link #scalars}). */
  public void restore(List<NDArray> params, List<float[]> savedZ, double[] scalars) {
    List<NDArray> mine = zFor(params);
    for (int i = 0; i < mine.size(); i++) mine.get(i).set(savedZ.get(i));
    steps = (long) scalars[0];
    lrMax = scalars[1];
    weightSum = scalars[2];
  }
}
