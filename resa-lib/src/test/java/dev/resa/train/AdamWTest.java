package dev.resa.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.resa.core.Djl;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class AdamWTest {
  /** Sets {@code p}'s gradient to the gradient of {@code loss(p)}. */
  private static void backward(NDArray p, Function<NDArray, NDArray> loss) {
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      gc.backward(loss.apply(p));
    }
  }

  @Test
  void twoStepsMatchTheUpdateWorkedOutByHand() {
    double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
    double[] p0 = {1.0, -2.0};
    double[] g1 = {0.5, -1.0}; // step 1: loss = 0.5 p0 - p1, constant gradient
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu()); AdamW opt = new AdamW(new AdamW.Config(lr, b1, b2, eps, wd), m)) {
      NDArray p = m.create(new float[] {1f, -2f});
      p.setRequiresGradient(true);
      NDArray c = m.create(new float[] {0.5f, -1f});
      backward(p, x -> x.mul(c).sum());
      opt.step(List.of(p));
      float[] after1 = p.toFloatArray();
      backward(p, x -> x.square().sum().mul(0.5)); // step 2: gradient = p itself
      opt.step(List.of(p));
      float[] after2 = p.toFloatArray();

      // Hand computation, torch.optim.AdamW's algorithm, one coordinate at a time in double precision.
      double[] want1 = new double[2], want2 = new double[2];
      for (int i = 0; i < 2; i++) {
        double x = p0[i] * (1 - lr * wd);
        double mom = (1 - b1) * g1[i], vel = (1 - b2) * g1[i] * g1[i];
        double mHat = mom / (1 - b1), vHat = vel / (1 - b2);
        x -= lr * mHat / (Math.sqrt(vHat) + eps); // step 1: mHat/sqrt(vHat) = sign(g), so x moves by lr
        want1[i] = x;
        double g2 = x; // gradient of 0.5 * sum(p^2) at the new point
        x *= 1 - lr * wd;
        mom = b1 * mom + (1 - b1) * g2;
        vel = b2 * vel + (1 - b2) * g2 * g2;
        mHat = mom / (1 - b1 * b1);
        vHat = vel / (1 - b2 * b2);
        x -= lr * mHat / (Math.sqrt(vHat) + eps);
        want2[i] = x;
      }
      // Step 1 numbers are easy to check on paper: 1*(1-0.001) - 0.1 = 0.899, -2*(0.999) + 0.1 = -1.898.
      assertEquals(0.899, want1[0], 1e-7);
      assertEquals(-1.898, want1[1], 1e-7);
      for (int i = 0; i < 2; i++) {
        assertEquals(want1[i], after1[i], 1e-6, "step 1, coordinate " + i);
        assertEquals(want2[i], after2[i], 1e-6, "step 2, coordinate " + i);
      }
      assertEquals(0f, p.getGradient().abs().sum().getFloat(), "step() zeroes the gradient");
    }
  }

  @Test
  void matchesTorchAdamWOverSeveralSteps() throws Exception {
    float[] init = {0.3f, -1.2f, 2.0f, 0.05f, -0.7f, 1.1f};
    float[] a = {1.0f, 0.5f, 2.0f, 3.0f, 0.1f, 1.5f};
    float[] c = {0.2f, -0.4f, 0.0f, 1.0f, -2.0f, 0.3f};
    int steps = 7;
    double lr = 0.05, wd = 0.1;
    float[] ours;
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu());
         AdamW opt = new AdamW(new AdamW.Config(lr, 0.9, 0.95, 1e-8, wd), m)) {
      NDArray p = m.create(init);
      p.setRequiresGradient(true);
      NDArray na = m.create(a), nc = m.create(c);
      for (int s = 0; s < steps; s++) {
        double stepLr = lr * (s + 1) / steps; // a changing learning rate, as under a schedule
        backward(p, x -> x.square().mul(na).sum().add(x.mul(nc).sum()));
        opt.step(List.of(p), stepLr);
      }
      ours = p.toFloatArray();
    }
    String script = String.join("\n",
        "import torch",
        "p = torch.tensor(" + Arrays.toString(init) + ", requires_grad=True)",
        "a = torch.tensor(" + Arrays.toString(a) + ")",
        "c = torch.tensor(" + Arrays.toString(c) + ")",
        "opt = torch.optim.AdamW([p], lr=" + lr + ", betas=(0.9, 0.95), eps=1e-8, weight_decay=" + wd + ")",
        "for s in range(" + steps + "):",
        "    for g in opt.param_groups: g['lr'] = " + lr + " * (s + 1) / " + steps,
        "    opt.zero_grad()",
        "    ((p * p * a).sum() + (p * c).sum()).backward()",
        "    opt.step()",
        "print(' '.join(repr(float(x)) for x in p.detach()))");
    String[] out = PythonTorch.run(script).split(" ");
    float[] torch = new float[out.length];
    for (int i = 0; i < out.length; i++) torch[i] = Float.parseFloat(out[i]);
    assertArrayEquals(torch, ours, 2e-6f);
  }
}
