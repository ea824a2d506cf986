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
      Sft.Config cfg = new Sft.Config(new LoraConfig(8, 16, 0, LoraConfig.ALL_TARGETS, null, 1), 1e-2, 0, 1.0, 40, 2, 0.05, 0, null, "tiny");
      try (Sft sft = new Sft(model, cfg)) {
        double last = sft.train(chunks);
        double first = sft.log().doubleColumn("loss").get(0);
        System.out.printf("SFT: cross-entropy %.3f -> %.3f in %d steps%n", first, last, sft.log().rowCount());
        assertTrue(last < 0.5 * first, first + " -> " + last);
      }
    }
  }
}
