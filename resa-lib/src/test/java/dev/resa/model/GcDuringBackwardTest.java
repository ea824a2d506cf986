package dev.resa.model;

import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.resa.core.Djl;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Regression: DJL's {@code div(Number)} / {@code mul(Number)} wrap the scalar in a Java-buffer tensor and close it
 * straight away, yet autograd keeps it for backward; a garbage collection between forward and backward then frees
 * that memory and the gradients come out NaN. The decoder must not put such scalars on the gradient path.
 */
class GcDuringBackwardTest {
  @Test
  void gradientsStayFiniteWhenTheJvmCollectsBetweenForwardAndBackward() {
    Djl.init();
    ModelConfig cfg = ModelConfig.tinyQwen2(20, 16, 2, 2, 1, 32, 16);
    try (NDManager root = Djl.newManager(Djl.defaultDevice());
        DecoderLM model = new DecoderLM(cfg, Weights.random(cfg, root.newSubManager(), 1, DataType.FLOAT32))) {
      List<NDArray> params = model.weights().setTrainable(n -> true);
      for (int round = 0; round < 3; round++) {
        try (NDManager step = model.stepScope()) {
          long[] toks = new long[2 * 12];
          for (int i = 0; i < toks.length; i++) toks[i] = (i * 7 + round) % 20;
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = model.logits(step.create(toks, new Shape(2, 12))).logSoftmax(-1).mean().neg();
            for (int i = 0; i < 3; i++) {
              System.gc();
              byte[][] churn = new byte[64][];
              for (int j = 0; j < churn.length; j++) churn[j] = new byte[1 << 16]; // let the allocator reuse freed pages
            }
            gc.backward(loss);
          }
          for (NDArray p : params) {
            try (NDArray g = p.getGradient()) {
              assertFalse(g.isNaN().any().getBoolean(), "NaN gradient in " + p.getName());
            }
          }
        }
      }
    }
  }
}
