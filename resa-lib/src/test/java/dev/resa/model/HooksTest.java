package dev.resa.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.resa.core.Djl;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Hook points: read, replace, detach, stopAfter and resume. */
class HooksTest {
  private NDManager m;
  private DecoderLM model;
  private final ModelConfig c = TestModels.config(ModelConfig.Architecture.QWEN2, ModelConfig.Rope.HALF, true, false, 3);
  private NDArray tokens;

  @BeforeEach
  void open() {
    m = Djl.newManager(Device.cpu());
    model = TestModels.random(c, 31, m);
    tokens = TestModels.tokens(m, new long[][] {{1, 4, 7, 2, 9}, {3, 3, 10, 0, 5}});
  }

  @AfterEach
  void close() {
    model.close();
    m.close();
  }

  @Test
  void readSeesTheActivationAndChangesNothing() {
    NDArray[] seen = new NDArray[1];
    NDArray plain = model.logits(tokens);
    NDArray hooked = model.forward(tokens, new DecoderLM.Options().hooks(Hooks.create().read("model.layers.1", a -> seen[0] = a))).logits();
    assertEquals(0.0, TestModels.maxAbsDiff(plain, hooked));
    NDArray stopped = model.forward(tokens, new DecoderLM.Options().stopAfter(1)).hidden();
    assertEquals(new ai.djl.ndarray.types.Shape(2, 5, 8), stopped.getShape());
    assertEquals(0.0, TestModels.maxAbsDiff(seen[0], stopped), "stopAfter(1) must equal the layers.1 activation of a full pass");
  }

  @Test
  void resumeFromALayerOutputEqualsTheFullPass() {
    NDArray full = model.logits(tokens);
    for (int n = 0; n < c.numLayers(); n++) {
      NDArray h = model.forward(tokens, new DecoderLM.Options().stopAfter(n)).hidden();
      NDArray resumed = model.resume(h, n + 1, new DecoderLM.Options()).logits();
      assertTrue(TestModels.maxAbsDiff(full, resumed) < 1e-12, "resume from layer " + (n + 1));
    }
  }

  @Test
  void replaceChangesLogitsAndIdentityReplaceDoesNot() {
    NDArray plain = model.logits(tokens);
    for (String point : new String[] {"embed", "layers.0", "layers.1.attn", "layers.2.mlp"}) {
      NDArray scaled = model.forward(tokens, new DecoderLM.Options().hooks(Hooks.create().replace(point, a -> a.mul(1.5), false))).logits();
      assertTrue(TestModels.maxAbsDiff(plain, scaled) > 1e-3, point + ": replacing must change the logits");
      NDArray same = model.forward(tokens, new DecoderLM.Options().hooks(Hooks.create().replace(point, a -> a, true))).logits();
      assertEquals(0.0, TestModels.maxAbsDiff(plain, same), point + ": identity replacement");
    }
  }

  /** Gradient magnitude per weight after a backward through a replacement at layers.1, with or without detach. */
  private Map<String, Double> gradNorms(boolean detach) {
    Map<String, Double> out = new HashMap<>();
    try (NDManager step = model.stepScope()) {
      model.weights().setTrainable(n -> true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        Hooks h = Hooks.create().replace("layers.1", a -> a.mul(0.7).add(0.1), detach);
        gc.backward(model.forward(tokens, new DecoderLM.Options().hooks(h)).logits().square().mean());
      }
      for (String n : Weights.names(c)) {
        // A leaf that received no gradient reports a float32 zero tensor, hence the cast.
        out.put(n, model.weights().get(n).getGradient().abs().sum().toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble());
      }
      for (NDArray w : model.weights().asMap().values()) w.getGradient().subi(w.getGradient());
      model.weights().setTrainable(n -> false);
    }
    return out;
  }

  @Test
  void detachStopsGradientBelowTheSplice() {
    Map<String, Double> detached = gradNorms(true);
    Map<String, Double> attached = gradNorms(false);
    for (String n : Weights.names(c)) {
      boolean below = n.startsWith("model.layers.0.") || n.startsWith("model.layers.1.") || n.equals("model.embed_tokens.weight");
      if (below) {
        assertEquals(0.0, detached.get(n), n + " is below the detached splice and must get no gradient");
        assertTrue(attached.get(n) > 0, n + " must get gradient without detach");
      } else {
        assertTrue(detached.get(n) > 0, n + " is above the splice and must get gradient");
        assertEquals(attached.get(n), detached.get(n), 1e-12 * Math.max(1, attached.get(n)), n + ": above the splice detach changes nothing");
      }
    }
  }

  @Test
  void badHookNamesGiveAClearError() {
    for (String bad : new String[] {"layers.3", "layers.-1", "layers.1.ffn", "blocks.0", "layers.x"}) {
      var e = assertThrows(IllegalArgumentException.class,
          () -> model.forward(tokens, new DecoderLM.Options().hooks(Hooks.create().read(bad, a -> {}))));
      assertTrue(e.getMessage().contains("'" + bad + "'") && e.getMessage().contains("layers.2"), e.getMessage());
    }
  }
}
