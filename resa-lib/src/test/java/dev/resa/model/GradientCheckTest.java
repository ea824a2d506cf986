package dev.resa.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.resa.core.Djl;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Autograd through the real DecoderLM code against central finite differences in float64. The loss is a fixed
 * random projection of the logits, sum(logits * R), so every logit contributes with a different weight.
 */
class GradientCheckTest {
  private static final double EPS = 1e-5;
  /**
   * Pass when |fd - autograd| <= REL * max(|fd|, |autograd|) + ABS. ABS covers float64 round-off in the loss
   * (about 1e-16 * |loss| / EPS, |loss| ~ 50 here); a wrong gradient is off by O(100 %), not 1e-5.
   */
  private static final double REL = 1e-5;
  private static final double ABS = 1e-8;
  private static final long[][] TOKENS = {{1, 4, 7, 2, 9}, {3, 3, 10, 0, 5}};

  /** Attention (q, k, v, o, q/k/v biases; GQA 4:2; causal), RMSNorm gains and SwiGLU, for both RoPE conventions. */
  @ParameterizedTest
  @EnumSource(ModelConfig.Rope.class)
  void weightsOfEveryBlock(ModelConfig.Rope rope) {
    ModelConfig c = TestModels.config(ModelConfig.Architecture.QWEN2, rope, true, false, 2);
    List<String> names = List.of(
        "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight", // RoPE'd
        "model.layers.0.self_attn.v_proj.weight", "model.layers.1.self_attn.o_proj.weight",
        "model.layers.0.self_attn.q_proj.bias", "model.layers.1.self_attn.k_proj.bias",
        "model.layers.0.input_layernorm.weight", "model.layers.1.post_attention_layernorm.weight", "model.norm.weight",
        "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight", "model.layers.1.mlp.down_proj.weight",
        "model.embed_tokens.weight", "lm_head.weight");
    check(c, names);
  }

  @Test
  void tiedEmbeddingGetsBothPaths() {
    check(TestModels.config(ModelConfig.Architecture.LLAMA, ModelConfig.Rope.INTERLEAVED, false, true, 1), List.of("model.embed_tokens.weight"));
  }

  private static void check(ModelConfig c, List<String> names) {
    Map<String, double[]> values = TestModels.randomValues(c, 21, 0.5);
    try (NDManager m = Djl.newManager(Device.cpu()); DecoderLM model = TestModels.model(c, values, m, DataType.FLOAT64)) {
      NDArray tokens = TestModels.tokens(m, TOKENS);
      NDArray proj = randomLike(m, new Shape(TOKENS.length, TOKENS[0].length, c.vocabSize()), 5);
      Function<DecoderLM, NDArray> loss = lm -> lm.logits(tokens).mul(proj).sum();
      Map<String, double[]> grads = new java.util.HashMap<>();
      try (NDManager step = model.stepScope()) {
        model.weights().setTrainable(names::contains);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          gc.backward(loss.apply(model));
        }
        for (String n : names) grads.put(n, model.weights().get(n).getGradient().toDoubleArray());
        model.weights().setTrainable(n -> false);
      }
      Random pick = new Random(3);
      for (String n : names) {
        double[] w = values.get(n);
        for (int trial = 0; trial < 4; trial++) {
          int i = pick.nextInt(w.length);
          double orig = w[i];
          double plus = perturbed(model, c, n, w, i, orig + EPS, loss);
          double minus = perturbed(model, c, n, w, i, orig - EPS, loss);
          w[i] = orig;
          model.weights().put(n, m.create(w, Weights.expectedShape(c, n)));
          double fd = (plus - minus) / (2 * EPS);
          double g = grads.get(n)[i];
          assertTrue(close(g, fd), n + "[" + i + "]: autograd " + g + " vs finite difference " + fd);
        }
      }
    }
  }

  private static double perturbed(DecoderLM model, ModelConfig c, String n, double[] w, int i, double value,
      Function<DecoderLM, NDArray> loss) {
    w[i] = value;
    model.weights().put(n, model.manager().create(w, Weights.expectedShape(c, n)));
    try (NDManager step = model.stepScope()) {
      return loss.apply(model).getDouble();
    }
  }

  /** RMSNorm and RoPE on their own, with respect to their input x (not a weight), through the package helpers. */
  @ParameterizedTest
  @EnumSource(ModelConfig.Rope.class)
  void rmsNormAndRopeInputs(ModelConfig.Rope rope) {
    ModelConfig c = TestModels.config(ModelConfig.Architecture.LLAMA, rope, false, true, 1);
    try (NDManager m = Djl.newManager(Device.cpu()); DecoderLM model = TestModels.random(c, 2, m)) {
      Shape xs = new Shape(1, 2, 3, 4); // [B, heads, T, E]
      NDArray[] rot = model.ropeAt(null, 4, 3); // the model's tables at positions 4, 5, 6
      NDArray gain = randomLike(m, new Shape(4), 9);
      NDArray proj = randomLike(m, xs, 10);
      checkInput(m, xs, x -> model.applyRope(x, rot).mul(proj).sum(), "RoPE " + rope);
      checkInput(m, xs, x -> model.rmsNorm(x, gain).mul(proj).sum(), "RMSNorm");
    }
  }

  private static void checkInput(NDManager m, Shape shape, Function<NDArray, NDArray> f, String what) {
    double[] x = randomLike(m, shape, 12).toDoubleArray();
    NDArray leaf = m.create(x, shape);
    leaf.setRequiresGradient(true);
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      gc.backward(f.apply(leaf));
    }
    double[] g = leaf.getGradient().toDoubleArray();
    for (int i = 0; i < x.length; i++) {
      double orig = x[i];
      x[i] = orig + EPS;
      double plus = f.apply(m.create(x, shape)).getDouble();
      x[i] = orig - EPS;
      double minus = f.apply(m.create(x, shape)).getDouble();
      x[i] = orig;
      double fd = (plus - minus) / (2 * EPS);
      assertTrue(close(g[i], fd), what + " d/dx[" + i + "]: autograd " + g[i] + " vs finite difference " + fd);
    }
  }

  private static boolean close(double autograd, double fd) {
    return Math.abs(fd - autograd) <= REL * Math.max(Math.abs(fd), Math.abs(autograd)) + ABS;
  }

  private static NDArray randomLike(NDManager m, Shape s, long seed) {
    Random r = new Random(seed);
    double[] v = new double[Math.toIntExact(s.size())];
    for (int i = 0; i < v.length; i++) v[i] = r.nextGaussian();
    return m.create(v, s);
  }
}
