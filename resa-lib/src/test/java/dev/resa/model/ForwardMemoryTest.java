package dev.resa.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.resa.testing.Managed;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A full forward frees each layer's intermediates when the layer ends: the arrays left in the caller's scope do
 * not grow with depth beyond the residual stream itself, activations that hooks keep stay readable, and gradients
 * still flow (the autograd graph holds what backward needs).
 */
class ForwardMemoryTest {
  @Managed private NDManager m;

  /** Arrays left in a forward's scope by a model of {@code layers} layers. */
  private int arraysLeft(int layers) {
    ModelConfig c = TestModels.config(ModelConfig.Architecture.QWEN2, ModelConfig.Rope.HALF, true, false, layers);
    try (DecoderLM model = TestModels.random(c, 3, m); NDManager step = model.stepScope()) {
      NDArray tokens = TestModels.tokens(step, new long[][] {{1, 2, 3, 4, 5, 6}});
      int before = step.getManagedArrays().size();
      model.logits(tokens);
      return step.getManagedArrays().size() - before;
    }
  }

  @Test
  void arraysLeftByAForwardGrowByOneResidualPerLayer() {
    int two = arraysLeft(2), six = arraysLeft(6);
    // each layer leaves exactly its output [B, T, D]; before per-layer scopes it left 55 arrays per layer
    assertEquals(4, six - two, "arrays left: 2 layers " + two + ", 6 layers " + six);
  }

  @Test
  void activationsKeptByReadHooksSurviveAndGradientsFlow() {
    ModelConfig c = TestModels.config(ModelConfig.Architecture.QWEN2, ModelConfig.Rope.HALF, true, false, 3);
    try (DecoderLM model = TestModels.random(c, 5, m); NDManager step = model.stepScope()) {
      NDArray tokens = TestModels.tokens(step, new long[][] {{1, 2, 3, 4}});
      List<NDArray> seen = new ArrayList<>();
      Hooks hooks = Hooks.create().read("layers.1.mlp", seen::add).read("layers.1.attn", seen::add);
      NDArray plain = model.logits(tokens);
      NDArray hooked = model.forward(tokens, new DecoderLM.Options().hooks(hooks)).logits();
      assertEquals(0.0, TestModels.maxAbsDiff(plain, hooked));
      assertEquals(2, seen.size());
      for (NDArray a : seen) assertTrue(Double.isFinite(a.abs().sum().toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble()));

      NDArray w = model.weights().get("model.layers.0.mlp.up_proj.weight");
      w.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        gc.backward(model.logits(tokens).square().sum());
      }
      double g = w.getGradient().abs().sum().toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
      assertTrue(g > 0 && Double.isFinite(g), "gradient through freed layers: " + g);
    }
  }
}
