package dev.resa.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.io.SafeTensors;
import dev.resa.model.ModelConfig;
import dev.resa.testing.Managed;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparsifyFormatTest {
  @Managed static NDManager manager;
  @TempDir Path tmp;

  static SparseCoder randomFp32(NDManager m, int d, int n, int k, long seed) {
    Random r = new Random(seed);
    float[] we = new float[n * d];
    float[] wd = new float[n * d];
    float[] be = new float[n];
    float[] bd = new float[d];
    for (int i = 0; i < we.length; i++) {
      we[i] = (float) r.nextGaussian() * 0.4f;
      wd[i] = (float) r.nextGaussian() * 0.4f;
    }
    for (int i = 0; i < n; i++) be[i] = (float) r.nextGaussian() * 0.2f;
    for (int i = 0; i < d; i++) bd[i] = (float) r.nextGaussian() * 0.2f;
    return SparseCoder.of(SparseCoderConfig.of(d, n, k), m, m.create(we, new Shape(n, d)), m.create(be), m.create(wd, new Shape(n, d)), m.create(bd));
  }

  @Test
  void roundTripKeepsTensorsAndConfig() throws IOException {
    try (NDManager m = manager.newSubManager()) {
      SparseCoder s = randomFp32(m, 16, 64, 4, 1);
      SparsifyFormat.write(tmp.resolve("layers.3"), s);
      JsonObject cfg = JsonParser.parseString(Files.readString(tmp.resolve("layers.3/cfg.json"))).getAsJsonObject();
      assertEquals(16, cfg.get("d_in").getAsInt());
      assertEquals(64, cfg.get("num_latents").getAsInt());
      assertEquals(4, cfg.get("k").getAsInt());
      assertEquals("topk", cfg.get("activation").getAsString());
      Map<String, SparseCoder> all = SparsifyFormat.readAll(tmp, m);
      SparseCoder back = all.get("layers.3");
      assertEquals(s.config(), back.config());
      for (int i = 0; i < 4; i++) assertArrayEquals(s.parameters().get(i).toFloatArray(), back.parameters().get(i).toFloatArray());
      try (SafeTensors.Reader r = SafeTensors.open(tmp.resolve("layers.3/sae.safetensors"))) {
        assertEquals(List.of(64L, 16L), Arrays.stream(r.entry("encoder.weight").shape()).boxed().toList());
        assertEquals(List.of(16L), Arrays.stream(r.entry("b_dec").shape()).boxed().toList());
      }
    }
  }

  @Test
  void saeLensExportTransposesTheEncoder() throws IOException {
    try (NDManager m = manager.newSubManager()) {
      SparseCoder s = randomFp32(m, 8, 24, 3, 2);
      SaeLensExport.write(tmp.resolve("saelens"), s, "stories260K", "blocks.2.hook_resid_post");
      try (SafeTensors.Reader r = SafeTensors.open(tmp.resolve("saelens/sae_weights.safetensors"))) {
        NDArray wEnc = r.read(m, "W_enc");
        assertEquals(new Shape(8, 24), wEnc.getShape());
        assertArrayEquals(s.wEnc().transpose().toFloatArray(), wEnc.toFloatArray());
        assertArrayEquals(s.wDec().toFloatArray(), r.read(m, "W_dec").toFloatArray());
        assertArrayEquals(s.bEnc().toFloatArray(), r.read(m, "b_enc").toFloatArray());
      }
      JsonObject cfg = JsonParser.parseString(Files.readString(tmp.resolve("saelens/cfg.json"))).getAsJsonObject();
      assertEquals("topk", cfg.get("architecture").getAsString());
      assertEquals(24, cfg.get("d_sae").getAsInt());
      assertEquals(3, cfg.getAsJsonObject("activation_fn_kwargs").get("k").getAsInt());
      assertEquals(2, cfg.get("hook_layer").getAsInt());
    }
  }

  @Test
  void javaForwardAgreesWithTorchSparsifyForward() throws Exception {
    Path script = Path.of("src/test/resources/sae/sparsify_forward.py").toAbsolutePath();
    Process probe = new ProcessBuilder("/usr/bin/python3", "-c", "import torch, numpy").redirectErrorStream(true).start();
    boolean torch = probe.waitFor(60, TimeUnit.SECONDS) && probe.exitValue() == 0;
    Assumptions.assumeTrue(torch, "skipped: /usr/bin/python3 cannot import torch and numpy (install python3-torch)");
    try (NDManager m = manager.newSubManager()) {
      int d = 24;
      int n = 96;
      int nTok = 40;
      SparseCoder s = randomFp32(m, d, n, 6, 3);
      Path dir = tmp.resolve("layers.1");
      SparsifyFormat.write(dir, s);
      float[] xs = new float[nTok * d];
      Random r = new Random(4);
      for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
      ByteBuffer bb = ByteBuffer.allocate(xs.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      bb.asFloatBuffer().put(xs);
      Path xFile = tmp.resolve("x.f32");
      Files.write(xFile, bb.array());
      Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), dir.toString(), xFile.toString(), tmp.resolve("py").toString())
          .redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes()).trim();
      assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, "python failed: " + output);
      double pyFvu = Double.parseDouble(output.lines().reduce((a, b) -> b).orElseThrow());

      SparseCoder loaded = SparsifyFormat.read(dir, m);
      NDArray x = m.create(xs, new Shape(nTok, d));
      SparseCoder.ForwardOutput out = loaded.forward(x);
      // order each token's k latents by activation, as the script does
      NDArray order = out.latentActs().argSort(-1, false);
      float[] acts = out.latentActs().gather(order, 1).toFloatArray();
      long[] idx = out.latentIndices().gather(order, 1).toLongArray();
      float[] pyActs = floats(tmp.resolve("py.acts"));
      long[] pyIdx = longs(tmp.resolve("py.idx"));
      assertArrayEquals(pyActs, acts, 1e-4f);
      assertArrayEquals(pyIdx, idx);
      assertArrayEquals(floats(tmp.resolve("py.recon")), out.reconstruction().toFloatArray(), 1e-4f);
      assertEquals(pyFvu, SaeTrainer.scalar(out.fvu()), 1e-4);
    }
  }

  static float[] floats(Path p) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
    float[] f = new float[b.remaining() / 4];
    b.asFloatBuffer().get(f);
    return f;
  }

  static long[] longs(Path p) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
    long[] f = new long[b.remaining() / 8];
    b.asLongBuffer().get(f);
    return f;
  }

  private Path writeWithCfg(String name, String cfgJson) throws IOException {
    try (NDManager m = manager.newSubManager()) {
      SparseCoder s = randomFp32(m, 8, 32, 4, 5);
      Path dir = tmp.resolve(name);
      SparsifyFormat.write(dir, s);
      if (cfgJson != null) Files.writeString(dir.resolve("cfg.json"), cfgJson);
      return dir;
    }
  }

  @Test
  void badInputsFailWithClearErrors() throws IOException {
    Path noK = writeWithCfg("noK", "{\"activation\":\"topk\",\"num_latents\":32,\"d_in\":8}");
    IOException e1 = assertThrows(IOException.class, () -> SparsifyFormat.read(noK, manager));
    assertTrue(e1.getMessage().contains("missing field 'k'") && e1.getMessage().contains("cfg.json"), e1.getMessage());

    Path noDin = writeWithCfg("noDin", "{\"num_latents\":32,\"k\":4}");
    IOException e2 = assertThrows(IOException.class, () -> SparsifyFormat.read(noDin, manager));
    assertTrue(e2.getMessage().contains("missing field 'd_in'"), e2.getMessage());

    Path kTooBig = writeWithCfg("kTooBig", "{\"num_latents\":32,\"k\":33,\"d_in\":8}");
    IOException e3 = assertThrows(IOException.class, () -> SparsifyFormat.read(kTooBig, manager));
    assertTrue(e3.getMessage().contains("k must be in 1..num_latents (32), got 33"), e3.getMessage());
    assertThrows(IllegalArgumentException.class, () -> SparseCoderConfig.of(8, 32, 33));

    Path shapes = writeWithCfg("shapes", "{\"num_latents\":16,\"k\":4,\"d_in\":8}");
    IOException e4 = assertThrows(IOException.class, () -> SparsifyFormat.read(shapes, manager));
    assertTrue(e4.getMessage().contains("'encoder.weight' has shape (32, 8) but cfg.json implies (16, 8)"), e4.getMessage());

    ModelConfig model = ModelConfig.tinyQwen2(64, 12, 2, 2, 1, 24, 32);
    SparseCoderConfig eight = SparseCoderConfig.of(8, 32, 4);
    IllegalArgumentException e5 = assertThrows(IllegalArgumentException.class, () -> SparsifyFormat.requireFits(eight, model, "layers.1"));
    assertTrue(e5.getMessage().contains("d_in 8 does not match the model's hidden size 12 at hook point 'layers.1'"), e5.getMessage());
    IllegalArgumentException e6 = assertThrows(IllegalArgumentException.class,
        () -> SparsifyFormat.requireFits(SparseCoderConfig.of(12, 32, 4), model, "layers.7"));
    assertTrue(e6.getMessage().contains("hook point 'layers.7' does not exist"), e6.getMessage());

    IOException e7 = assertThrows(IOException.class, () -> SparsifyFormat.read(tmp.resolve("nowhere"), manager));
    assertTrue(e7.getMessage().contains("no cfg.json in"), e7.getMessage());
  }
}
