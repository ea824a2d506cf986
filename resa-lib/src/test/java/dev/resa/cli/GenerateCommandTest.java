package dev.resa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.resa.core.Djl;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import dev.resa.tokenizer.CharTokenizer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code generate --model DIR --tokenizer char.json} on a saved random model, and its error paths. */
class GenerateCommandTest {
  @TempDir Path tmp;

  @Test
  void samplesFromASavedHfFolderWithACharTokenizer() throws Exception {
    // No <eos> in this vocabulary: a random model would otherwise stop early for some seeds, making "text was
    // generated" depend on the seed rather than on the command.
    CharTokenizer tok = new CharTokenizer("abcdefgh ", java.util.List.of("<pad>"));
    tok.save(tmp.resolve("char.json"));
    ModelConfig c = ModelConfig.tinyQwen2(tok.vocabSize(), 16, 1, 2, 1, 32, 64);
    try (NDManager m = Djl.newManager(Device.cpu())) {
      Weights w = Weights.random(c, m.newSubManager(), 1, DataType.FLOAT32);
      try (DecoderLM model = new DecoderLM(c, w)) {
        HfCheckpoint.save(model, tmp.resolve("model"));
      }
    }
    String[] args = {"generate", "--model", tmp.resolve("model").toString(), "--tokenizer", tmp.resolve("char.json").toString(),
        "--prompt", "abc", "--max-new-tokens", "12", "--temperature", "1", "--top-p", "1", "--seed", "5"};
    CliRun a = CliRun.of(args);
    assertEquals(0, a.code(), a.err());
    assertTrue(a.out().startsWith("abc"), a.out());
    assertTrue(a.out().strip().length() > 3, "nothing generated: " + a.out());
    assertEquals(a.out(), CliRun.of(args).out(), "same seed, same text");
    args[args.length - 1] = "6";
    assertNotEquals(a.out(), CliRun.of(args).out(), "another seed should give other text");
  }

  @Test
  void missingTokenizerAndBadSourceAreUsageErrors() throws Exception {
    ModelConfig c = ModelConfig.tinyQwen2(11, 16, 1, 2, 1, 32, 64);
    try (NDManager m = Djl.newManager(Device.cpu())) {
      try (DecoderLM model = new DecoderLM(c, Weights.random(c, m.newSubManager(), 1, DataType.FLOAT32))) {
        HfCheckpoint.save(model, tmp.resolve("model"));
      }
    }
    CliRun r = CliRun.of("generate", "--model", tmp.resolve("model").toString(), "--prompt", "x");
    assertNotEquals(0, r.code());
    assertTrue(r.err().contains("--tokenizer is required"), r.err());
    CliRun none = CliRun.of("generate", "--prompt", "x");
    assertNotEquals(0, none.code());
    assertTrue(none.err().contains("--model") && none.err().contains("--llama2c"), none.err());
  }
}
