package dev.resa.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.resa.core.DataDir;
import dev.resa.core.Djl;
import dev.resa.model.DecoderLM;
import dev.resa.model.Generator;
import dev.resa.model.Llama2c;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** stories260K against the greedy oracle in models/stories260K/SOURCE.md, and the generate command. */
class Stories260KTest {
  /** First 40 greedy token ids after BOS, copied from models/stories260K/SOURCE.md (an independent forward pass). */
  private static final int[] ORACLE = {
      403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
      410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352};

  private static Path dir() {
    Path d = DataDir.resolve(null).resolve("models/stories260K");
    Assumptions.assumeTrue(Files.isRegularFile(d.resolve("stories260K.bin")), "stories260K not found (set -Dresa.dataDir): " + d);
    return d;
  }

  @Test
  void greedyTokensMatchOracle() throws Exception {
    Path d = dir();
    try (NDManager m = Djl.newManager(Device.cpu())) {
      try (DecoderLM model = Llama2c.load(d.resolve("stories260K.bin"), m)) {
        int[] got = new Generator(model).generate(List.of(new int[] {1}), Generator.Sampling.greedy(40, Set.of())).get(0);
        assertArrayEquals(ORACLE, got);
      }
      assertTrue(m.isOpen(), "closing the model must not close the caller's manager");
    }
  }

  /** Converted to a HF folder (q/k permuted to half rotation), the model still reproduces the oracle. */
  @Test
  void hfConversionKeepsTheOracle(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    Path d = dir();
    try (NDManager m = Djl.newManager(Device.cpu())) {
      try (DecoderLM model = Llama2c.load(d.resolve("stories260K.bin"), m)) {
        dev.resa.model.HfCheckpoint.save(model, tmp.resolve("hf"));
      }
      try (DecoderLM hf = dev.resa.model.HfCheckpoint.load(tmp.resolve("hf"), m)) {
        assertEquals(dev.resa.model.ModelConfig.Rope.HALF, hf.config().rope());
        int[] got = new Generator(hf).generate(List.of(new int[] {1}), Generator.Sampling.greedy(40, Set.of())).get(0);
        assertArrayEquals(ORACLE, got);
      }
    }
  }

  @Test
  void generateCommandPrintsTheStory() {
    Path d = dir();
    StringWriter out = new StringWriter();
    var cl = Main.commandLine();
    cl.setOut(new PrintWriter(out));
    int code = cl.execute("generate", "--llama2c", d.resolve("stories260K.bin").toString(),
        "--tokenizer", d.resolve("tok512.bin").toString(), "--max-new-tokens", "40", "--temperature", "0");
    assertEquals(0, code);
    assertTrue(out.toString().startsWith("Once upon a time, there was a little girl named Lily"), out.toString());
  }
}
