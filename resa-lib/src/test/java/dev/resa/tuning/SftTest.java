package dev.resa.tuning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.resa.core.Djl;
import dev.resa.model.DecoderLM;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SftTest {
  @Test
  void formatsCotFreeAndCotTextAsResasSftScript() {
    assertEquals("Q?\nthink: \n42\n answer: 42", Sft.format("Q?", "long trace", "42", true));
    assertEquals("Q?\nthink: \nlong trace\n answer: 42", Sft.format("Q?", "long trace", "42", false));
  }

  /** With a mask holding one 1, the loss is exactly that position's -log p(target), computed independently. */
  @Test
  void maskedBackwardIsTheCrossEntropyOfTheMaskedPositions() throws Exception {
    Djl.init();
    ModelConfig c = ModelConfig.tinyQwen2(16, 32, 2, 4, 2, 48, 32);
    try (NDManager root = NDManager.newBaseManager();
         DecoderLM model = new DecoderLM(c, Weights.random(c, root.newSubManager(), 2, DataType.FLOAT64))) {
      Sft.Config cfg = Sft.Config.resa().withLora(new LoraConfig(4, 8, 0, LoraConfig.ALL_TARGETS, null, 1)).withLr(1e-2);
      try (Sft sft = new Sft(model, cfg); NDManager step = model.stepScope()) {
        long[] in = {1, 5, 7, 2, 3, 3, 9, 4}, out = {5, 7, 2, 11, 3, 9, 4, 0};
        double[] mask = new double[8];
        mask[6] = 1; // row 1, position 2: target 4
        ai.djl.ndarray.NDArray inputs = step.create(in, new ai.djl.ndarray.types.Shape(2, 4));
        double got = sft.backward(inputs, step.create(out, new ai.djl.ndarray.types.Shape(2, 4)),
            step.create(mask, new ai.djl.ndarray.types.Shape(2, 4)));
        double[] logits = model.logits(inputs).toDoubleArray(); // [2, 4, 16]
        int off = (4 + 2) * 16;
        double max = Double.NEGATIVE_INFINITY, z = 0;
        for (int v = 0; v < 16; v++) max = Math.max(max, logits[off + v]);
        for (int v = 0; v < 16; v++) z += Math.exp(logits[off + v] - max);
        double expected = -(logits[off + 4] - max - Math.log(z));
        assertEquals(expected, got, 1e-9 * expected);
      }
    }
  }

  /** LoRA + cross-entropy learns a repeating pattern: the loss falls well below its start. */
  @Test
  void loraCrossEntropyLowersTheLoss() throws Exception {
    Djl.init();
    ModelConfig c = ModelConfig.tinyQwen2(16, 32, 2, 4, 2, 48, 32);
    List<int[]> chunks = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      int[] row = new int[24];
      for (int t = 0; t < row.length; t++) row[t] = (t * 3 + i) % 16;
      chunks.add(row);
    }
    try (NDManager root = NDManager.newBaseManager();
         DecoderLM model = new DecoderLM(c, Weights.random(c, root.newSubManager(), 1, DataType.FLOAT32))) {
      model.weights().get("model.embed_tokens.weight").muli(25); // N(0, 0.5): the tied head can express confident logits
      Sft.Config cfg = Sft.Config.resa().withLora(new LoraConfig(8, 16, 0, LoraConfig.ALL_TARGETS, null, 1)).withLr(1e-2)
          .withEpochs(40).withBatchSize(2);
      try (Sft sft = new Sft(model, cfg)) {
        LoraTrainer.Result r = sft.train(chunks);
        double first = r.firstLoss(), last = r.lastLoss();
        System.out.printf("SFT: cross-entropy %.3f -> %.3f in %d steps%n", first, last, r.log().rows());
        assertTrue(last < 0.5 * first, first + " -> " + last);
      }
    }
  }
}
