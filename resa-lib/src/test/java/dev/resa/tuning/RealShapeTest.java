package dev.resa.tuning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.core.DataDir;
import dev.resa.core.Djl;
import dev.resa.eval.Prompts;
import dev.resa.io.SafeTensors;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.model.ModelConfig;
import dev.resa.model.R1DistillFixture;
import dev.resa.sae.SparseCoder;
import dev.resa.sae.SparseCoderConfig;
import dev.resa.tokenizer.Tokenizer;
import dev.resa.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * R1-Distill-Qwen-1.5B's real width, vocabulary (151,936) and head layout with 2 layers instead of 28: the fixture's
 * folder loads as a sharded bf16 checkpoint with R1's tokens, and a Stage-II step at 272 positions (two loss
 * chunks) gives the loss and LoRA gradients of the unchunked [T, V] computation.
 */
class RealShapeTest {
  private static final int LAYERS = 2;
  private static Path dir;
  private static NDManager root;

  @BeforeAll
  static void writeFixture() throws IOException {
    Path qwen = DataDir.resolve(null).resolve("tokenizers/qwen2");
    Assumptions.assumeTrue(Files.isDirectory(qwen), "data folder with tokenizers/qwen2 not found (set -Dresa.dataDir): " + qwen);
    dir = Files.createTempDirectory("resa-r1-fixture");
    long start = System.nanoTime();
    R1DistillFixture.write(dir, LAYERS, 11, 700L << 20, qwen); // 1.1 GB of bf16 in two shards
    System.out.printf("fixture (%d layers) written in %.1f s%n", LAYERS, (System.nanoTime() - start) / 1e9);
    root = Djl.newManager(Device.cpu());
  }

  @AfterAll
  static void cleanUp() throws IOException {
    if (root != null) root.close();
    if (dir != null) {
      try (var files = Files.list(dir)) {
        for (Path p : (Iterable<Path>) files::iterator) Files.delete(p);
      }
      Files.delete(dir);
    }
  }

  @Test
  void fixtureIsAShardedBf16R1DistillFolderWithR1Tokens() throws IOException {
    JsonObject index = JsonParser.parseString(Files.readString(dir.resolve(HfCheckpoint.INDEX))).getAsJsonObject();
    Set<String> shards = new HashSet<>();
    index.getAsJsonObject("weight_map").entrySet().forEach(e -> shards.add(e.getValue().getAsString()));
    assertEquals(Set.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"), shards);
    long total = 0;
    for (String s : shards) {
      try (SafeTensors.Reader r = SafeTensors.open(dir.resolve(s))) {
        for (SafeTensors.Entry e : r.entries().values()) {
          assertEquals("BF16", e.dtype(), e.name());
          total += e.end() - e.begin();
        }
      }
    }
    assertEquals(index.getAsJsonObject("metadata").get("total_size").getAsLong(), total);
    ModelConfig c = ModelConfig.readHf(dir.resolve(HfCheckpoint.CONFIG));
    assertEquals(1536, c.hiddenSize());
    assertEquals(12, c.numHeads());
    assertEquals(2, c.numKvHeads());
    assertEquals(128, c.headDim());
    assertEquals(8960, c.intermediateSize());
    assertEquals(151936, c.vocabSize());
    assertTrue(c.qkvBias());
    assertTrue(!c.tieEmbeddings());
    assertEquals(LAYERS, c.numLayers());
    Tokenizer tok = Tokenizers.open(dir, c.vocabSize());
    int[] ids = tok.encode(Prompts.r1Chat("What is 1+1?"));
    assertEquals(151646, ids[0]); // <｜begin▁of▁sentence｜>
    assertEquals(151644, ids[1]); // <｜User｜>
    assertArrayEquals(new int[] {151645, 151648}, new int[] {ids[ids.length - 3], ids[ids.length - 2]}); // <｜Assistant｜><think>
    assertEquals(151643, tok.eosId());
    assertEquals(151646, tok.bosId()); // <｜end▁of▁sentence｜>, from tokenizer_config.json
  }

  @Test
  void stageTwoStepLossAndGradientsEqualTheUnchunkedComputation() throws IOException {
    Tokenizer tok = Tokenizers.open(dir, 151936);
    List<Integer> ids = new ArrayList<>();
    String text = Prompts.r1Chat("Find the sum of all positive divisors of 360, and explain each step carefully.");
    while (ids.size() < 272) for (int t : tok.encode(text)) ids.add(t);
    int[] chunk = ids.subList(0, 272).stream().mapToInt(Integer::intValue).toArray(); // 272 > 256: two loss chunks
    int layer = 0;
    long start = System.nanoTime();
    try (DecoderLM model = HfCheckpoint.load(dir, root)) {
      System.out.printf("loaded in %.1f s%n", (System.nanoTime() - start) / 1e9);
      SparseCoder sae = SparseCoder.init(SparseCoderConfig.of(1536, 2048, 32), root, 5);
      LoraConfig lora = LoraConfig.resa().withDropout(0); // no dropout, so both passes see the same function
      try (SaeTuning tuning = new SaeTuning(model, Splice.of(sae), SaeTuning.Config.resa(layer).withLora(lora))) {
        Lora adapter = tuning.adapter();
        // give B non-zero values so the student differs from the spliced base and every LoRA factor gets gradient
        try (NDManager s = model.stepScope()) {
          for (Lora.Pair p : adapter.modules().values()) p.b().addi(s.randomNormal(0, 1e-3f, p.b().getShape(), DataType.FLOAT32));
        }
        double chunkedLoss;
        List<double[]> chunkedGrads = new ArrayList<>();
        try (NDManager step = model.stepScope()) {
          for (NDArray p : sae.parameters()) p.tempAttach(step);
          chunkedLoss = tuning.backward(SaeTuning.tokens(step, List.of(chunk))).kl();
          for (NDArray p : adapter.parameters()) {
            chunkedGrads.add(p.getGradient().toType(DataType.FLOAT64, false).toDoubleArray());
            p.getGradient().subi(p.getGradient());
          }
        }
        double fullLoss;
        List<double[]> fullGrads = new ArrayList<>();
        try (NDManager step = model.stepScope()) {
          for (NDArray p : sae.parameters()) p.tempAttach(step);
          NDArray tokens = SaeTuning.tokens(step, List.of(chunk));
          NDArray teacherLogits;
          NDArray h = model.forward(tokens, new DecoderLM.Options().stopAfter(layer)).hidden(); // [1, T, D]
          try (AutoCloseable off = model.disableAdapter()) {
            teacherLogits = model.resume(h, layer + 1, new DecoderLM.Options()).logits(); // [1, T, V], in one piece
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          NDArray hHat = sae.reconstruct(h.reshape(-1, 1536)).reshape(h.getShape()).stopGradient();
          NDArray logP = teacherLogits.logSoftmax(-1);
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray logQ = model.resume(hHat, layer + 1, new DecoderLM.Options()).logits().logSoftmax(-1); // [1, T, V]
            NDArray kl = logP.exp().mul(logP.sub(logQ)).sum(); // batchmean with B = 1
            fullLoss = kl.toType(DataType.FLOAT64, false).getDouble();
            gc.backward(kl);
          }
          for (NDArray p : adapter.parameters()) {
            fullGrads.add(p.getGradient().toType(DataType.FLOAT64, false).toDoubleArray());
            p.getGradient().subi(p.getGradient());
          }
        }
        double worst = 0, scale = 0;
        for (int i = 0; i < fullGrads.size(); i++) {
          double[] a = chunkedGrads.get(i), b = fullGrads.get(i);
          for (int j = 0; j < a.length; j++) {
            worst = Math.max(worst, Math.abs(a[j] - b[j]));
            scale = Math.max(scale, Math.abs(b[j]));
          }
        }
        System.out.printf("reduced real shape (2 layers, V 151936, T 272): Stage-II loss chunked %.6f vs unchunked %.6f;"
            + " LoRA grads max |diff| %.2e (max |grad| %.2e) over %d tensors%n", chunkedLoss, fullLoss, worst, scale, fullGrads.size());
        assertTrue(fullLoss > 0, "the spliced student must differ from the teacher");
        assertEquals(fullLoss, chunkedLoss, 1e-4 * fullLoss);
        assertTrue(scale > 0, "LoRA gradients must be non-zero");
        assertTrue(worst <= 1e-3 * scale, "gradient mismatch " + worst + " vs scale " + scale);
      }
      sae.close();
    }
  }
}
