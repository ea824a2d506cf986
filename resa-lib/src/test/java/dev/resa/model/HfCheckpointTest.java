package dev.resa.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.io.SafeTensors;
import dev.resa.testing.Managed;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HF folder save / load round trips, Python interop, and every bad input naming file, key and shape. */
class HfCheckpointTest {
  @TempDir Path tmp;
  @Managed private NDManager m;

  private static ModelConfig qwen(boolean tied) {
    return TestModels.config(ModelConfig.Architecture.QWEN2, ModelConfig.Rope.HALF, true, tied, 2);
  }

  private DecoderLM randomFloat32(ModelConfig c) {
    return TestModels.model(c, TestModels.randomValues(c, 7, 0.5), m, DataType.FLOAT32);
  }

  private NDArray tokens() {
    return TestModels.tokens(m, new long[][] {{1, 4, 7, 2, 9, 3}, {0, 10, 5, 5, 8, 6}});
  }

  @Test
  void shardedTiedQwenWithBiasReloadsToIdenticalLogits() throws IOException {
    ModelConfig c = qwen(true);
    try (DecoderLM model = randomFloat32(c)) {
      Path dir = tmp.resolve("sharded");
      HfCheckpoint.save(c, model.weights(), dir, 2_000, SafeTensors.FloatFormat.F32);
      assertTrue(Files.exists(dir.resolve(HfCheckpoint.INDEX)));
      long shards;
      try (var files = Files.list(dir)) {
        shards = files.filter(p -> p.getFileName().toString().matches("model-\\d{5}-of-\\d{5}\\.safetensors")).count();
      }
      assertTrue(shards >= 3, "expected several shards, got " + shards);
      assertFalse(Files.exists(dir.resolve(HfCheckpoint.SINGLE)));
      try (DecoderLM back = HfCheckpoint.load(dir, m)) {
        assertEquals(c, back.config());
        assertFalse(back.weights().contains("lm_head.weight"));
        assertEquals(0.0, TestModels.maxAbsDiff(model.logits(tokens()), back.logits(tokens())));
      }
      // Re-saving unsharded into the same folder replaces the layout (no stale index left behind).
      HfCheckpoint.save(model, dir);
      assertFalse(Files.exists(dir.resolve(HfCheckpoint.INDEX)));
      try (DecoderLM back = HfCheckpoint.load(dir, m)) {
        assertEquals(0.0, TestModels.maxAbsDiff(model.logits(tokens()), back.logits(tokens())));
      }
    }
  }

  @Test
  void untiedSingleFileAndFloat64Load() throws IOException {
    ModelConfig c = qwen(false);
    try (DecoderLM model = randomFloat32(c)) {
      Path dir = tmp.resolve("single");
      HfCheckpoint.save(model, dir);
      try (DecoderLM back = HfCheckpoint.load(dir, m)) {
        assertEquals(0.0, TestModels.maxAbsDiff(model.logits(tokens()), back.logits(tokens())));
      }
      try (DecoderLM wide = HfCheckpoint.load(dir, m, DataType.FLOAT64)) {
        NDArray logits = wide.logits(tokens());
        assertEquals(DataType.FLOAT64, logits.getDataType());
        assertTrue(TestModels.maxAbsDiff(model.logits(tokens()), logits) < 1e-4);
      }
    }
  }

  @Test
  void interleavedRopeIsSavedAsAPlainHfCheckpoint() throws IOException {
    ModelConfig c = TestModels.config(ModelConfig.Architecture.LLAMA, ModelConfig.Rope.INTERLEAVED, true, false, 2);
    try (DecoderLM model = randomFloat32(c)) {
      Path dir = tmp.resolve("interleaved");
      HfCheckpoint.save(model, dir);
      assertFalse(Files.readString(dir.resolve(HfCheckpoint.CONFIG)).contains("resa_rope"));
      try (DecoderLM back = HfCheckpoint.load(dir, m)) {
        assertEquals(ModelConfig.Rope.HALF, back.config().rope());
        assertTrue(TestModels.maxAbsDiff(model.logits(tokens()), back.logits(tokens())) < 1e-5);
        assertTrue(TestModels.maxAbsDiff(model.weights().get("model.layers.0.self_attn.q_proj.weight"),
            back.weights().get("model.layers.0.self_attn.q_proj.weight")) > 0.1, "q rows must be permuted");
      }
    }
  }

  @Test
  void closingALoadedModelLeavesTheCallersManagerOpen() throws IOException {
    Path dir = saved("owner");
    HfCheckpoint.load(dir, m).close();
    assertTrue(m.isOpen());
    assertEquals(3, m.create(new float[] {1, 2, 3}).size());
  }

  @Test
  void bf16CheckpointLoadsWidened() throws IOException {
    ModelConfig c = qwen(false);
    try (DecoderLM model = randomFloat32(c)) {
      Path dir = tmp.resolve("bf16");
      HfCheckpoint.save(c, model.weights(), dir, Long.MAX_VALUE, SafeTensors.FloatFormat.BF16);
      try (SafeTensors.Reader r = SafeTensors.open(dir.resolve(HfCheckpoint.SINGLE))) {
        assertEquals("BF16", r.entry("model.norm.weight").dtype());
      }
      try (DecoderLM back = HfCheckpoint.load(dir, m)) {
        for (String name : Weights.names(c)) {
          float[] a = model.weights().get(name).toFloatArray();
          float[] b = back.weights().get(name).toFloatArray();
          assertEquals(DataType.FLOAT32, back.weights().get(name).getDataType());
          for (int i = 0; i < a.length; i++) {
            assertTrue(Math.abs(a[i] - b[i]) <= Math.abs(a[i]) / 256, name + "[" + i + "]: " + a[i] + " vs bf16 " + b[i]);
          }
        }
      }
    }
  }

  @Test
  void tiedCheckpointMayCarryAHeadCopy() throws IOException {
    ModelConfig c = qwen(true);
    try (DecoderLM model = randomFloat32(c)) {
      Map<String, NDArray> tensors = new LinkedHashMap<>(model.weights().asMap());
      tensors.put("lm_head.weight", model.weights().get("model.embed_tokens.weight"));
      tensors.put("model.layers.0.self_attn.rotary_emb.inv_freq", m.create(new float[] {1f, 0.01f}));
      Path dir = folder("withhead", c, tensors);
      try (DecoderLM back = HfCheckpoint.load(dir, m)) {
        assertEquals(0.0, TestModels.maxAbsDiff(model.logits(tokens()), back.logits(tokens())));
      }
    }
  }

  // ------------------------------------------------------------------ bad inputs

  private Path folder(String name, ModelConfig c, Map<String, NDArray> tensors) throws IOException {
    Path dir = tmp.resolve(name);
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(HfCheckpoint.CONFIG), c.toHfJson());
    SafeTensors.write(dir.resolve(HfCheckpoint.SINGLE), tensors);
    return dir;
  }

  private Path saved(String name) throws IOException {
    ModelConfig c = qwen(true);
    try (DecoderLM model = randomFloat32(c)) {
      HfCheckpoint.save(model, tmp.resolve(name));
    }
    return tmp.resolve(name);
  }

  private static void assertMessage(Exception e, String... parts) {
    for (String p : parts) assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
  }

  @Test
  void truncatedSafetensors() throws IOException {
    Path dir = saved("truncated");
    Path file = dir.resolve(HfCheckpoint.SINGLE);
    byte[] all = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(all, all.length - 100));
    IOException e = assertThrows(IOException.class, () -> HfCheckpoint.load(dir, m));
    assertMessage(e, file.toString(), "data_offsets", "out of range");
    Files.write(file, Arrays.copyOf(all, 5));
    assertMessage(assertThrows(IOException.class, () -> HfCheckpoint.load(dir, m)), file.toString(), "truncated");
  }

  /** A safetensors file from a literal header and {@code dataBytes} zero bytes of data. */
  private static byte[] rawFile(String header, int dataBytes, long claimedHeaderLength) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(claimedHeaderLength).put(h);
    return b.array();
  }

  @Test
  void headerLengthPastEndOfFile() throws IOException {
    Path file = tmp.resolve("h.safetensors");
    String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    Files.write(file, rawFile(header, 8, 10_000));
    assertMessage(assertThrows(IOException.class, () -> SafeTensors.open(file)), file.toString(), "header length 10000", "past the end");
  }

  @Test
  void offsetsOutOfRange() throws IOException {
    Path file = tmp.resolve("o.safetensors");
    String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[100],\"data_offsets\":[0,400]}}";
    Files.write(file, rawFile(header, 16, header.getBytes(StandardCharsets.UTF_8).length));
    assertMessage(assertThrows(IOException.class, () -> SafeTensors.open(file)), file.toString(), "'w'", "[0, 400]", "out of range");
  }

  @Test
  void unknownDtype() throws IOException {
    Path file = tmp.resolve("d.safetensors");
    String header = "{\"w\":{\"dtype\":\"F7\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    Files.write(file, rawFile(header, 8, header.getBytes(StandardCharsets.UTF_8).length));
    assertMessage(assertThrows(IOException.class, () -> SafeTensors.open(file)), file.toString(), "'w'", "unknown dtype 'F7'");
  }

  @Test
  void missingTensor() throws IOException {
    ModelConfig c = qwen(true);
    try (DecoderLM model = randomFloat32(c)) {
      Map<String, NDArray> tensors = new LinkedHashMap<>(model.weights().asMap());
      tensors.remove("model.layers.1.mlp.up_proj.weight");
      Path dir = folder("missing", c, tensors);
      assertMessage(assertThrows(IOException.class, () -> HfCheckpoint.load(dir, m)),
          dir.resolve(HfCheckpoint.SINGLE).toString(), "missing tensor 'model.layers.1.mlp.up_proj.weight'");
    }
  }

  @Test
  void shapeDisagreesWithConfig() throws IOException {
    ModelConfig c = qwen(true);
    try (DecoderLM model = randomFloat32(c)) {
      Map<String, NDArray> tensors = new LinkedHashMap<>(model.weights().asMap());
      tensors.put("model.layers.0.self_attn.k_proj.weight", m.zeros(new Shape(16, 8)));
      Path dir = folder("shape", c, tensors);
      assertMessage(assertThrows(IOException.class, () -> HfCheckpoint.load(dir, m)),
          dir.resolve(HfCheckpoint.SINGLE).toString(), "'model.layers.0.self_attn.k_proj.weight'", "[16, 8]", "[8, 8]", "config.json");
    }
  }

  @Test
  void integerWeightIsAnError() throws IOException {
    ModelConfig c = qwen(true);
    try (DecoderLM model = randomFloat32(c)) {
      Map<String, NDArray> tensors = new LinkedHashMap<>(model.weights().asMap());
      tensors.put("model.norm.weight", m.zeros(new Shape(8), DataType.INT32));
      Path dir = folder("int", c, tensors);
      assertMessage(assertThrows(IOException.class, () -> HfCheckpoint.load(dir, m)),
          dir.resolve(HfCheckpoint.SINGLE).toString(), "'model.norm.weight'", "dtype I32");
    }
  }

  @Test
  void unexpectedTensorIsAnError() throws IOException {
    ModelConfig c = qwen(true);
    try (DecoderLM model = randomFloat32(c)) {
      Map<String, NDArray> tensors = new LinkedHashMap<>(model.weights().asMap());
      tensors.put("model.layers.0.self_attn.q_norm.weight", m.ones(new Shape(4))); // Qwen3-style extra
      Path dir = folder("extra", c, tensors);
      assertMessage(assertThrows(IOException.class, () -> HfCheckpoint.load(dir, m)),
          dir.resolve(HfCheckpoint.SINGLE).toString(), "unexpected tensor 'model.layers.0.self_attn.q_norm.weight'");
    }
  }

  @Test
  void unknownModelType() throws IOException {
    Path dir = saved("type");
    Path config = dir.resolve(HfCheckpoint.CONFIG);
    JsonObject j = JsonParser.parseString(Files.readString(config)).getAsJsonObject();
    j.addProperty("model_type", "gpt_neox");
    Files.writeString(config, j.toString());
    assertMessage(assertThrows(IOException.class, () -> HfCheckpoint.load(dir, m)), config.toString(), "unknown model_type 'gpt_neox'");
  }

  @Test
  void indexPointingAtAMissingShard() throws IOException {
    ModelConfig c = qwen(true);
    Path dir = tmp.resolve("badindex");
    try (DecoderLM model = randomFloat32(c)) {
      HfCheckpoint.save(c, model.weights(), dir, 2_000, SafeTensors.FloatFormat.F32);
    }
    Files.delete(dir.resolve("model-00002-of-" + String.format("%05d", shardCount(dir)) + ".safetensors"));
    assertMessage(assertThrows(IOException.class, () -> HfCheckpoint.load(dir, m)), HfCheckpoint.INDEX, "does not exist");
  }

  private static long shardCount(Path dir) throws IOException {
    JsonObject map = JsonParser.parseString(Files.readString(dir.resolve(HfCheckpoint.INDEX))).getAsJsonObject().getAsJsonObject("weight_map");
    return map.entrySet().stream().map(e -> e.getValue().getAsString()).distinct().count();
  }

  // ------------------------------------------------------------------ Python interop

  private static boolean torchAvailable() {
    try {
      String probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)";
      Process p = new ProcessBuilder("/usr/bin/python3", "-c", probe).redirectErrorStream(true).start();
      return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  /**
   * A saved sharded Qwen2 opens in Python (hand-written safetensors parser in torch), its tensors read back equal,
   * and an independent torch float64 forward gives the same logits as DecoderLM in float64.
   */
  @Test
  void pythonTorchReadsSavedModelAndAgreesOnLogits() throws Exception {
    Assumptions.assumeTrue(torchAvailable(), "skipped: /usr/bin/python3 has no torch module (apt install python3-torch)");
    Path script = tmp.resolve("torch_decoder.py");
    try (InputStream in = getClass().getResourceAsStream("torch_decoder.py")) {
      Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    long[][] rows = {{1, 4, 7, 2, 9, 3, 10}, {0, 10, 5, 5, 8, 6, 2}};
    Path tokensJson = tmp.resolve("tokens.json");
    Files.writeString(tokensJson, new Gson().toJson(rows));
    boolean[] tiedCases = {true, false};
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", script.toString(), tokensJson.toString()));
    // An adjacent-pair (llama2.c) model, saved with HF's permutation, must run in torch's half-rotation forward.
    ModelConfig inter = TestModels.config(ModelConfig.Architecture.LLAMA, ModelConfig.Rope.INTERLEAVED, false, true, 2);
    Map<String, double[]> interValues = TestModels.randomValues(inter, 9, 0.5);
    for (double[] v : interValues.values()) for (int i = 0; i < v.length; i++) v[i] = (float) v[i]; // what F32 stores
    try (DecoderLM model = TestModels.model(inter, interValues, m, DataType.FLOAT32)) {
      HfCheckpoint.save(model, tmp.resolve("py-inter"));
    }
    cmd.add(tmp.resolve("py-inter").toString());
    cmd.add(tmp.resolve("out-inter.json").toString());
    for (boolean tied : tiedCases) { // tied + sharded, untied + single file
      ModelConfig c = qwen(tied);
      try (DecoderLM model = randomFloat32(c)) {
        HfCheckpoint.save(c, model.weights(), tmp.resolve("py-" + tied), tied ? 2_000 : Long.MAX_VALUE, SafeTensors.FloatFormat.F32);
      }
      cmd.add(tmp.resolve("py-" + tied).toString());
      cmd.add(tmp.resolve("out-" + tied + ".json").toString());
    }
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "python timed out");
    assertEquals(0, p.exitValue(), "python failed:\n" + log);
    try (DecoderLM original = TestModels.model(inter, interValues, m, DataType.FLOAT64)) {
      JsonObject result = JsonParser.parseString(Files.readString(tmp.resolve("out-inter.json"))).getAsJsonObject();
      double worst = maxDiff(result.getAsJsonArray("logits"), original.logits(TestModels.tokens(m, rows)).toDoubleArray(), rows, inter.vocabSize());
      System.out.println("torch (HF half rotation, permuted save) vs DecoderLM (adjacent pairs), float64: max |logit diff| = " + worst);
      assertTrue(worst < 1e-9, "interleaved model saved for HF: max |Java - torch| logit = " + worst);
    }
    for (boolean tied : tiedCases) {
      ModelConfig c = qwen(tied);
      JsonObject result = JsonParser.parseString(Files.readString(tmp.resolve("out-" + tied + ".json"))).getAsJsonObject();
      try (DecoderLM back = HfCheckpoint.load(tmp.resolve("py-" + tied), m, DataType.FLOAT64)) {
        JsonObject firsts = result.getAsJsonObject("tensors");
        assertEquals(Weights.names(c).size(), firsts.size(), "tensor count seen by Python");
        for (String name : Weights.names(c)) {
          double[] java = back.weights().get(name).toDoubleArray();
          JsonArray py = firsts.getAsJsonArray(name);
          for (int i = 0; i < py.size(); i++) assertEquals(java[i], py.get(i).getAsDouble(), 0.0, name + "[" + i + "]");
        }
        double worst = maxDiff(result.getAsJsonArray("logits"), back.logits(TestModels.tokens(m, rows)).toDoubleArray(), rows, c.vocabSize());
        System.out.println("torch vs DecoderLM (float64, tied=" + tied + "): max |logit diff| = " + worst);
        assertTrue(worst < 1e-9, "tied=" + tied + ": max |Java - torch| logit = " + worst);
      }
    }
  }

  private static double maxDiff(JsonArray pyLogits, double[] logits, long[][] rows, int v) {
    int t = rows[0].length;
    double worst = 0;
    for (int b = 0; b < rows.length; b++) {
      for (int i = 0; i < t; i++) {
        JsonArray row = pyLogits.get(b).getAsJsonArray().get(i).getAsJsonArray();
        for (int k = 0; k < v; k++) worst = Math.max(worst, Math.abs(row.get(k).getAsDouble() - logits[(b * t + i) * v + k]));
      }
    }
    return worst;
  }
}
