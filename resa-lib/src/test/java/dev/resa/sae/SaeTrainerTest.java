package dev.resa.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.resa.activations.ActivationSource;
import dev.resa.activations.Packing;
import dev.resa.activations.TriggerTemplate;
import dev.resa.core.DataDir;
import dev.resa.model.DecoderLM;
import dev.resa.model.Llama2c;
import dev.resa.testing.Managed;
import dev.resa.tokenizer.Llama2cTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Table;

class SaeTrainerTest {
  @Managed static NDManager manager;

  /** One optimiser step of p with gradient {@code g}. */
  private static void stepWithGradient(ScheduleFreeSignSgd opt, NDArray p, double[] g) {
    opt.step(List.of(p), List.of(p.getManager().create(g)));
  }

  @Test
  void scheduleFreeSignSgdMatchesHandComputedUpdates() {
    try (NDManager m = manager.newSubManager()) {
      NDArray p = m.create(new double[] {0.5, -1.0, 2.0});
      ScheduleFreeSignSgd opt = new ScheduleFreeSignSgd(new ScheduleFreeSignSgd.Config(0.1, 0.95, 2, 0), m);
      // Worked by hand from resa-algorithm §1.4 (lr 0.1, m 0.95, c_t = 1/t):
      // step 1, g = (3, -2, 0): z0 = y0 = x = (0.5, -1, 2); z1 = (0.4, -0.9, 2.0) (sign(0) = 0); c = 1 ⇒ x1 = z1; y1 = z1.
      stepWithGradient(opt, p, new double[] {3, -2, 0});
      assertArrayEquals(new double[] {0.4, -0.9, 2.0}, p.toDoubleArray(), 1e-12);
      // step 2, g = (-1, 1, 5): x = y1/m + (1-1/m) z1 = z1; z2 = (0.5, -1.0, 1.9); c = 1/2 ⇒ x2 = (0.45, -0.95, 1.95);
      // y2 = x2 + 0.05 (z2 - x2) = (0.4525, -0.9525, 1.9475)
      stepWithGradient(opt, p, new double[] {-1, 1, 5});
      assertArrayEquals(new double[] {0.4525, -0.9525, 1.9475}, p.toDoubleArray(), 1e-12);
      assertArrayEquals(new double[] {0.45, -0.95, 1.95}, opt.averaged(p, m).toDoubleArray(), 1e-12);
      // step 3, g = (1, 1, 1): x = y2/m + (1-1/m) z2 = x2; z3 = (0.4, -1.1, 1.8); c = 1/3 ⇒
      // x3 = (0.45 - 0.05/3, -0.95 - 0.05, 1.95 - 0.05) = (0.4333.., -1.0, 1.9); y3 = x3 + 0.05 (z3 - x3)
      stepWithGradient(opt, p, new double[] {1, 1, 1});
      double x30 = 0.45 - 0.05 / 3;
      assertArrayEquals(new double[] {x30, -1.0, 1.9}, opt.averaged(p, m).toDoubleArray(), 1e-12);
      assertArrayEquals(new double[] {x30 + 0.05 * (0.4 - x30), -1.005, 1.895}, p.toDoubleArray(), 1e-12);
      NDArray g = m.create(new double[] {1, -2, 3});
      opt.step(List.of(p.duplicate()), List.of(g));
      assertEquals(0, g.abs().sum().getDouble(), "gradients are zeroed after a step");
      opt.close();
    }
  }

  @Test
  void decoderGradientLosesItsRowParallelComponent() {
    try (NDManager m = manager.newSubManager()) {
      SparseCoder s = SparseCoderTest.randomSae(m, 4, 6, 2, 9);
      s.normalizeDecoder();
      NDArray x = m.create(SparseCoderTest.gauss(new java.util.Random(1), 5 * 4, 1.0), new ai.djl.ndarray.types.Shape(5, 4));
      s.forwardBackward(x, null, null, 0);
      double[] before = s.gradients().get(2).toDoubleArray();
      s.removeGradientParallelToDecoder();
      double[] g = s.gradients().get(2).toDoubleArray();
      double[] w = s.wDec().toDoubleArray();
      for (int i = 0; i < 6; i++) {
        double dot = 0;
        double gw = 0;
        for (int j = 0; j < 4; j++) {
          dot += g[i * 4 + j] * w[i * 4 + j];
          gw += before[i * 4 + j] * w[i * 4 + j];
        }
        assertEquals(0, dot, 1e-6, "row " + i + " gradient is orthogonal to the row");
        for (int j = 0; j < 4; j++) assertEquals(before[i * 4 + j] - gw * w[i * 4 + j], g[i * 4 + j], 1e-12);
      }
      s.close();
    }
  }

  static List<String> gsm8kTriggerTexts(Path data, int count) throws Exception {
    List<String> texts = new ArrayList<>();
    for (String line : Files.readAllLines(data.resolve("gsm8k/train.jsonl"))) {
      if (texts.size() == count) break;
      JsonObject o = JsonParser.parseString(line).getAsJsonObject();
      String answer = o.get("answer").getAsString();
      texts.add(TriggerTemplate.format(o.get("question").getAsString(), answer.substring(answer.lastIndexOf("####") + 4).trim()));
    }
    return texts;
  }

  @Test
  void trainingOnStories260kCutsFvuToAThird() throws Exception {
    Path data = DataDir.resolve(null);
    Path bin = data.resolve("models/stories260K/stories260K.bin");
    Assumptions.assumeTrue(Files.isRegularFile(bin), "stories260K not found under the data dir " + data);
    try (NDManager m = manager.newSubManager(); DecoderLM model = Llama2c.load(bin, m)) {
      Llama2cTokenizer tok = Llama2cTokenizer.load(data.resolve("models/stories260K/tok512.bin"), 512);
      List<long[]> chunks = Packing.pack(gsm8kTriggerTexts(data, 100), tok, 256);
      ActivationSource src = new ActivationSource(model, List.of("layers.2"));
      SparseCoderConfig shape = SparseCoderConfig.of(src.width(), 1024, 16);
      // the dead threshold is one step's tokens here (sparsify's 10M is far beyond this run)
      SaeTrainer.Config cfg = SaeTrainer.Config.resa().withDeadThreshold(4 * 256);
      try (SaeTrainer trainer = new SaeTrainer(cfg, SaeTrainer.fromScratch(List.of("layers.2"), shape, m, 42))) {
        Table h = trainer.fit(src.batches(chunks, 4, m), 0);
        double first = h.doubleColumn("fvu").get(0);
        double last = h.doubleColumn("fvu").get(h.rowCount() - 1);
        StringBuilder curve = new StringBuilder();
        for (int i = 0; i < h.rowCount(); i += Math.max(1, h.rowCount() / 10)) curve.append(String.format(" %d:%.3f", i, h.doubleColumn("fvu").get(i)));
        System.out.printf("stories260K layers.2 n=1024 k=16: %d chunks, %d steps, FVU curve%s, last %.3f, dead %.1f%%%n", chunks.size(),
            h.rowCount(), curve, last, 100 * h.doubleColumn("dead_pct").get(h.rowCount() - 1));
        assertTrue(h.rowCount() >= 30, "enough steps: " + h.rowCount());
        assertTrue(last <= first / 3, "FVU " + first + " -> " + last);
        // the averaged iterate (what is saved) reconstructs held-in activations at least as well as the first step did
        try (SparseCoder avg = trainer.averaged("layers.2", m)) {
          Map<String, NDArray> batch = src.capture(chunks.subList(0, 4), m);
          double fvu = SaeTrainer.scalar(avg.forward(batch.get("layers.2")).fvu());
          System.out.printf("averaged-iterate FVU on 4 chunks: %.3f%n", fvu);
          assertTrue(fvu <= first / 3, "averaged iterate FVU " + fvu);
        }
      }
    }
  }

  /** x = sparse non-negative combinations of 16 random unit atoms in d = 8 (2 per token). */
  static NDArray sparseData(NDManager m, int tokens, long seed) {
    java.util.Random r = new java.util.Random(seed);
    double[][] atoms = new double[16][8];
    for (double[] a : atoms) {
      double nrm = 0;
      for (int j = 0; j < 8; j++) nrm += (a[j] = r.nextGaussian()) * a[j];
      for (int j = 0; j < 8; j++) a[j] /= Math.sqrt(nrm);
    }
    float[] x = new float[tokens * 8];
    for (int t = 0; t < tokens; t++) {
      for (int c = 0; c < 2; c++) {
        double[] a = atoms[r.nextInt(16)];
        double s = 1 + r.nextDouble();
        for (int j = 0; j < 8; j++) x[t * 8 + j] += (float) (s * a[j]);
      }
    }
    return m.create(x, new ai.djl.ndarray.types.Shape(tokens, 8));
  }

  @Test
  void bothOptimizersAndAuxkReduceFvuOnSyntheticSparseData() {
    for (SaeTrainer.Config cfg : List.of(SaeTrainer.Config.resa().withLr(0.01), SaeTrainer.Config.resa().withOptimizer(SaeTrainer.Optimizer.ADAM).withLr(0.01),
        SaeTrainer.Config.resa().withLr(0.01).withAuxk(1.0 / 32).withDeadThreshold(256))) {
      try (NDManager m = manager.newSubManager();
          SaeTrainer t = new SaeTrainer(cfg, SaeTrainer.fromScratch(List.of("h"), SparseCoderConfig.of(8, 32, 2), m, 42))) {
        NDArray x = sparseData(m, 512, 3);
        double first = t.step(Map.of("h", x)).get("h").fvu();
        double last = first;
        for (int i = 0; i < 60; i++) last = t.step(Map.of("h", x)).get("h").fvu();
        assertTrue(last < 0.6 * first, cfg.optimizer() + " auxk=" + cfg.auxkAlpha() + ": FVU " + first + " -> " + last);
        if (cfg.auxkAlpha() > 0) assertTrue(t.history().doubleColumn("auxk").max() > 0, "AuxK was active");
        t.save(tmpDir.resolve(cfg.optimizer() + "-" + cfg.auxkAlpha()));
        assertEquals(8, SparsifyFormat.readConfig(tmpDir.resolve(cfg.optimizer() + "-" + cfg.auxkAlpha()).resolve("h")).dIn());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  /** A fresh stream of {@code n} synthetic batches, batch i seeded with i (the same data on every call). */
  private static java.util.Iterator<Map<String, NDArray>> stream(NDManager m, int n, int poisonAt) {
    return new java.util.Iterator<>() {
      int i = 0;

      @Override
      public boolean hasNext() {
        return i < n;
      }

      @Override
      public Map<String, NDArray> next() {
        NDArray x = sparseData(m, 128, 100 + i);
        if (++i == poisonAt) x.set(new ai.djl.ndarray.index.NDIndex("0, 0"), Float.NaN); // one NaN activation
        return Map.of("h", x);
      }
    };
  }

  @Test
  void resumingFromACheckpointEqualsTheUninterruptedRun() throws Exception {
    for (SaeTrainer.Optimizer opt : SaeTrainer.Optimizer.values()) {
      Path dir = tmpDir.resolve("resume-" + opt);
      SaeTrainer.Config cfg = SaeTrainer.Config.resa().withOptimizer(opt).withLr(0.01).withDeadThreshold(300);
      double[] fullFvu;
      float[][] full = new float[4][];
      try (NDManager m = manager.newSubManager();
          SaeTrainer t = new SaeTrainer(cfg, SaeTrainer.fromScratch(List.of("h"), SparseCoderConfig.of(8, 32, 2), m, 42))) {
        fullFvu = t.fit(stream(m, 12, -1), 12).doubleColumn("fvu").asDoubleArray();
        try (SparseCoder avg = t.averaged("h", m)) {
          for (int j = 0; j < 4; j++) full[j] = avg.parameters().get(j).toFloatArray();
        }
      }
      try (NDManager m = manager.newSubManager();
          SaeTrainer t = new SaeTrainer(cfg.withCheckpoints(dir, 5), SaeTrainer.fromScratch(List.of("h"), SparseCoderConfig.of(8, 32, 2), m, 42))) {
        t.fit(stream(m, 12, -1), 7); // a checkpoint at step 5; steps 6-7 are lost, as in a crash
      }
      try (NDManager m = manager.newSubManager();
          SaeTrainer t = new SaeTrainer(cfg, SaeTrainer.fromScratch(List.of("h"), SparseCoderConfig.of(8, 32, 2), m, 7))) { // other init
        t.resume(dir);
        assertEquals(5, t.steps());
        double[] fvu = t.fit(stream(m, 12, -1), 12).doubleColumn("fvu").asDoubleArray();
        assertArrayEquals(fullFvu, fvu, 1e-6, opt + ": FVU curve after resume");
        try (SparseCoder avg = t.averaged("h", m)) {
          for (int j = 0; j < 4; j++) assertArrayEquals(full[j], avg.parameters().get(j).toFloatArray(), 1e-6f, opt + ": saved SAE tensor " + j);
        }
      }
    }
  }

  @Test
  void aNonFiniteFvuStopsTrainingAndKeepsTheLastCheckpoint() throws Exception {
    Path dir = tmpDir.resolve("guard");
    try (NDManager m = manager.newSubManager();
        SaeTrainer t = new SaeTrainer(SaeTrainer.Config.resa().withLr(0.01).withCheckpoints(dir, 1),
            SaeTrainer.fromScratch(List.of("h"), SparseCoderConfig.of(8, 32, 2), m, 42))) {
      t.fit(stream(m, 2, -1), 2);
      byte[] before = Files.readAllBytes(dir.resolve(SaeTrainer.STATE_FILE));
      float[] wEnc = t.sae("h").wEnc().toFloatArray();
      dev.resa.train.NonFiniteException e = org.junit.jupiter.api.Assertions.assertThrows(dev.resa.train.NonFiniteException.class,
          () -> t.fit(stream(m, 5, 3), 5)); // the stream's 3rd batch (step 3) holds a NaN
      System.out.println("guard: " + e.getMessage());
      assertEquals(3, e.step());
      assertTrue(e.getMessage().startsWith("step 3: fvu is NaN"), e.getMessage());
      assertTrue(e.getMessage().contains(dir.resolve(SaeTrainer.STATE_FILE).toString()), e.getMessage());
      assertArrayEquals(before, Files.readAllBytes(dir.resolve(SaeTrainer.STATE_FILE)), "the last good checkpoint is untouched");
      assertArrayEquals(wEnc, t.sae("h").wEnc().toFloatArray(), "no update at the failing step (W_dec only gets its row renormalisation)");
      for (NDArray p : t.sae("h").parameters()) for (float v : p.toFloatArray()) assertTrue(Float.isFinite(v), "parameters stay finite");
      assertEquals(2, t.steps());
    }
  }

  @org.junit.jupiter.api.io.TempDir Path tmpDir;
}
