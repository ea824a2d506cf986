package dev.resa.tuning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.resa.io.SafeTensors;
import dev.resa.model.DecoderLM;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import dev.resa.testing.Managed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SaeTuningTest {
  static final ModelConfig TINY = ModelConfig.tinyQwen2(32, 16, 4, 4, 2, 24, 32);
  @Managed NDManager root;

  /**
   * A small TopK SAE written here from its definition (ReLU, keep the k largest, decode, add b_dec), so the tests
   * do not depend on the library's SAE: x̂ = topk(relu((x − b_dec) W_enc + b_enc)) W_dec + b_dec.
   */
  static final class TinyTopK implements Splice {
    final NDArray wEnc; // [d, m]
    final NDArray bEnc; // [m]
    final NDArray wDec; // [m, d]
    final NDArray bDec; // [d]
    final int k;

    TinyTopK(NDManager m, int d, int latents, int k, long seed, DataType dtype) {
      Random rng = new Random(seed);
      this.k = k;
      wEnc = gaussian(m, rng, new Shape(d, latents), 1 / Math.sqrt(d), dtype);
      bEnc = gaussian(m, rng, new Shape(latents), 0.01, dtype);
      wDec = wEnc.transpose().duplicate();
      bDec = gaussian(m, rng, new Shape(d), 0.01, dtype);
    }

    @Override
    public NDArray reconstruct(NDArray x) {
      NDArray pre = x.sub(bDec).matMul(wEnc).add(bEnc).maximum(0); // [N, m]
      NDArray kth = pre.topK(k, -1, true, false).get(0).min(new int[] {-1}, true); // [N, 1]
      NDArray acts = pre.mul(pre.gte(kth).toType(pre.getDataType(), false)); // [N, m], k non-zero per row
      return acts.matMul(wDec).add(bDec); // [N, d]
    }

    @Override
    public int dIn() {
      return (int) wEnc.getShape().get(0);
    }

    @Override
    public List<NDArray> parameters() {
      return List.of(wEnc, bEnc, wDec, bDec);
    }
  }

  static NDArray gaussian(NDManager m, Random rng, Shape s, double std, DataType dtype) {
    double[] v = new double[(int) s.size()];
    for (int i = 0; i < v.length; i++) v[i] = std * rng.nextGaussian();
    return m.create(v, s).toType(dtype, false);
  }

  static DecoderLM model(NDManager root, ModelConfig c, long seed, DataType dtype) {
    return new DecoderLM(c, Weights.random(c, root.newSubManager(), seed, dtype));
  }

  /** Random B for modules in layers after {@code layer}, the same values whichever adapter holds them. */
  static void randomiseSuffixB(Lora lora, int layer) {
    for (var e : lora.modules().entrySet()) {
      if (PeftFormat.layerOf(e.getKey()) <= layer) continue;
      NDArray b = e.getValue().b();
      Random rng = new Random(e.getKey().hashCode());
      try (NDArray add = gaussian(lora.manager(), rng, b.getShape(), 0.1, b.getDataType())) {
        b.addi(add);
      }
    }
  }

  static List<int[]> chunks(int n, int t, int vocab, long seed) {
    Random rng = new Random(seed);
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int[] c = new int[t];
      for (int j = 0; j < t; j++) c[j] = rng.nextInt(vocab);
      out.add(c);
    }
    return out;
  }

  record Pass(double kl, Map<String, double[][]> grads) {}

  static Pass lossAndGradients(DecoderLM model, SaeTuning tuning, List<int[]> batch) {
    try (NDManager step = model.stepScope()) {
      SaeTuning.Measured m = tuning.backward(SaeTuning.tokens(step, batch));
      Map<String, double[][]> grads = new HashMap<>();
      for (var e : tuning.adapter().modules().entrySet()) {
        grads.put(e.getKey(), new double[][] {asDoubles(e.getValue().a().getGradient()), asDoubles(e.getValue().b().getGradient())});
      }
      return new Pass(m.kl(), grads);
    }
  }

  static double[] asDoubles(NDArray a) {
    return a.toType(DataType.FLOAT64, false).toDoubleArray();
  }

  @Test
  void prefixShortcutEqualsNaiveAndThePrefixGetsExactlyZeroGradient() {
    int layer = 1;
    SaeTuning.Config cfg = SaeTuning.Config.resa(layer).withLora(new LoraConfig(8, 32, 0, LoraConfig.ALL_TARGETS, null, 3));
    List<int[]> batch = chunks(2, 10, 32, 1);
    try (DecoderLM model = model(root, TINY, 7, DataType.FLOAT64)) {
      TinyTopK sae = new TinyTopK(root, 16, 64, 4, 2, DataType.FLOAT64);
      Pass naive, shortcut;
      try (SaeTuning t = new SaeTuning(model, sae, cfg.withPrefixShortcut(false))) {
        assertEquals(4 * 7, t.adapter().modules().size());
        randomiseSuffixB(t.adapter(), layer);
        naive = lossAndGradients(model, t, batch);
      }
      try (SaeTuning t = new SaeTuning(model, sae, cfg.withPrefixShortcut(true))) {
        assertEquals(2 * 7, t.adapter().modules().size(), "the shortcut adapts layers ℓ+1.. only");
        randomiseSuffixB(t.adapter(), layer);
        shortcut = lossAndGradients(model, t, batch);
      }
      double lossErr = Math.abs(naive.kl() - shortcut.kl()) / Math.abs(naive.kl());
      double gradErr = 0, gradScale = 0;
      int zeroChecked = 0;
      for (var e : naive.grads().entrySet()) {
        int l = PeftFormat.layerOf(e.getKey());
        if (l <= layer) {
          for (double[] g : e.getValue()) {
            for (double v : g) assertEquals(0.0, v, "naive LoRA gradient in prefix layer " + l + " must be exactly zero: " + e.getKey());
            zeroChecked += g.length;
          }
          continue;
        }
        double[][] s = shortcut.grads().get(e.getKey());
        for (int ab = 0; ab < 2; ab++) {
          for (int i = 0; i < s[ab].length; i++) {
            gradErr = Math.max(gradErr, Math.abs(e.getValue()[ab][i] - s[ab][i]));
            gradScale = Math.max(gradScale, Math.abs(s[ab][i]));
          }
        }
      }
      System.out.printf("Stage II naive vs prefix shortcut (float64): loss %.10f vs %.10f (rel %.2e), max |Δgrad| %.2e (max |grad| %.2e), %d prefix gradient entries all 0.0%n",
          naive.kl(), shortcut.kl(), lossErr, gradErr, gradScale, zeroChecked);
      assertTrue(naive.kl() > 0.01, "the SAE must perturb the model for this test to mean anything");
      assertTrue(gradScale > 1e-3, "gradients must be non-trivial");
      assertTrue(lossErr < 1e-5, "loss rel err " + lossErr);
      assertTrue(gradErr < 1e-5 * gradScale, "grad err " + gradErr);
      assertTrue(zeroChecked > 0);
    }
  }

  /** At B = 0 the Stage II loss is KL(original ‖ spliced), computed here with plain Java loops. */
  @Test
  void stepZeroLossIsTheKlBetweenTheOriginalAndTheSplicedModel() {
    int layer = 2;
    List<int[]> batch = chunks(2, 9, 32, 3);
    try (DecoderLM model = model(root, TINY, 8, DataType.FLOAT64)) {
      TinyTopK sae = new TinyTopK(root, 16, 64, 3, 5, DataType.FLOAT64);
      double[] valid = new double[2 * 9];
      Arrays.fill(valid, 1);
      double expected = referenceKl(model, sae, layer, batch, valid);
      for (boolean shortcut : new boolean[] {true, false}) {
        try (SaeTuning t = new SaeTuning(model, sae, SaeTuning.Config.resa(layer).withPrefixShortcut(shortcut))) {
          double got = lossAndGradients(model, t, batch).kl();
          System.out.printf("step-0 Stage II loss (shortcut=%s) %.12f vs independent KL %.12f%n", shortcut, got, expected);
          assertTrue(expected > 0.01);
          assertEquals(expected, got, 1e-10 * expected);
        }
      }
    }
  }

  /** With a validity mask, the loss sums the KL over real positions only (pads at the end of row 1), / B. */
  @Test
  void maskedLossCountsOnlyValidPositions() {
    int layer = 2;
    List<int[]> batch = chunks(2, 9, 32, 4);
    double[] valid = new double[2 * 9];
    for (int i = 0; i < valid.length; i++) valid[i] = i < 9 + 5 ? 1 : 0; // row 1 keeps its first 5 tokens
    try (DecoderLM model = model(root, TINY, 8, DataType.FLOAT64)) {
      TinyTopK sae = new TinyTopK(root, 16, 64, 3, 5, DataType.FLOAT64);
      double expected = referenceKl(model, sae, layer, batch, valid);
      for (boolean shortcut : new boolean[] {true, false}) {
        try (SaeTuning t = new SaeTuning(model, sae, SaeTuning.Config.resa(layer).withPrefixShortcut(shortcut));
            NDManager step = model.stepScope()) {
          NDArray mask = step.create(valid, new ai.djl.ndarray.types.Shape(2, 9)); // [B, T]
          double got = t.backward(SaeTuning.tokens(step, batch), mask).kl();
          assertTrue(expected > 0.01);
          assertEquals(expected, got, 1e-10 * expected);
        }
      }
    }
  }

  /**
   * The Stage-II loss written out independently for the TINY model (width 16, vocabulary 32): the sum, over the
   * positions whose {@code valid} entry is not 0, of KL(original ‖ SAE spliced after {@code layer}), / B (batchmean).
   */
  static double referenceKl(DecoderLM model, TinyTopK sae, int layer, List<int[]> batch, double[] valid) {
    double kl = 0;
    try (NDManager step = model.stepScope()) {
      NDArray tok = SaeTuning.tokens(step, batch);
      double[] p = model.logits(tok).toDoubleArray(); // [B, T, V]
      NDArray h = model.forward(tok, new DecoderLM.Options().stopAfter(layer)).hidden(); // [B, T, D]
      NDArray hHat = sae.reconstruct(h.reshape(-1, 16)).reshape(h.getShape());
      double[] q = model.resume(hHat, layer + 1, new DecoderLM.Options()).logits().toDoubleArray();
      for (int row = 0; row < valid.length; row++) {
        if (valid[row] == 0) continue;
        double[] lp = logSoftmax(p, row * 32, 32), lq = logSoftmax(q, row * 32, 32);
        for (int v = 0; v < 32; v++) kl += Math.exp(lp[v]) * (lp[v] - lq[v]);
      }
    }
    return kl / batch.size(); // batchmean
  }

  static double[] logSoftmax(double[] x, int off, int n) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
    double z = 0;
    for (int i = 0; i < n; i++) z += Math.exp(x[off + i] - max);
    double[] out = new double[n];
    for (int i = 0; i < n; i++) out[i] = x[off + i] - max - Math.log(z);
    return out;
  }

  /** Training lowers the KL; checkpoints, the training table and the merged plain model are written. */
  @Test
  void trainingLowersTheKlAndExportsAMergedModel(@TempDir Path dir) throws IOException {
    int layer = 1;
    List<int[]> data = chunks(4, 16, 32, 9);
    SaeTuning.Config cfg = SaeTuning.Config.resa(layer)
        .withLora(new LoraConfig(8, 32, 0.05, LoraConfig.ALL_TARGETS, null, 1))
        .withLr(4e-3).withEpochs(8).withBatchSize(2).withOutput(dir.resolve("run"), 10, "tiny");
    try (DecoderLM model = model(root, TINY, 9, DataType.FLOAT32)) {
      TinyTopK sae = new TinyTopK(root, 16, 64, 4, 6, DataType.FLOAT32);
      try (SaeTuning t = new SaeTuning(model, sae, cfg)) {
        double before = meanKl(model, t, data);
        LoraTrainer.Result r = t.train(data);
        double after = meanKl(model, t, data);
        System.out.printf("Stage II training: KL before %.4f, after %.4f (%d steps; first step %.4f, last %.4f)%n",
            before, after, r.steps(), r.firstLoss(), r.lastLoss());
        assertEquals(16, r.steps());
        assertTrue(after < 0.7 * before, "KL " + before + " -> " + after);
        assertEquals(16, r.log().rows());
        assertTrue(r.log().table().doubleColumn("fvu").get(0) > 0);
        assertTrue(Files.isRegularFile(dir.resolve("run/checkpoint-10").resolve(PeftFormat.WEIGHTS)));
        assertTrue(Files.isRegularFile(dir.resolve("run/checkpoint-10").resolve(PeftFormat.CONFIG)));
        assertEquals(17, Files.readAllLines(dir.resolve("run/training.csv")).size());
        try (Lora back = Lora.load(r.adapterDir(), TINY, root)) {
          assertEquals(t.adapter().modules().keySet(), back.modules().keySet());
        }
        // merged plain model (no SAE) equals base + adapter
        t.saveMerged(dir.resolve("merged"));
        NDArray tok = SaeTuning.tokens(root, data.subList(0, 2));
        float[] adapted = model.logits(tok).toFloatArray();
        try (DecoderLM merged = load(dir.resolve("merged"))) {
          float[] m = merged.logits(tok).toFloatArray();
          double err = 0;
          for (int i = 0; i < m.length; i++) err = Math.max(err, Math.abs(m[i] - adapted[i]));
          System.out.printf("saved merged model vs base + adapter: max abs logit diff %.2e%n", err);
          assertTrue(err < 1e-5, "merged " + err);
        }
      }
    }
  }

  static double meanKl(DecoderLM model, SaeTuning t, List<int[]> data) {
    double sum = 0;
    for (int i = 0; i < data.size(); i += 2) sum += lossAndGradients(model, t, data.subList(i, i + 2)).kl();
    dev.resa.train.Gradients.zero(t.adapter().parameters());
    return sum / (data.size() / 2.0);
  }

  DecoderLM load(Path dir) throws IOException {
    ModelConfig c = ModelConfig.readHf(dir.resolve("config.json"));
    Weights w = new Weights(root.newSubManager());
    try (SafeTensors.Reader r = SafeTensors.open(dir.resolve("model.safetensors"))) {
      for (String name : r.entries().keySet()) w.put(name, r.read(w.manager(), name));
    }
    return new DecoderLM(c, w);
  }

  @Test
  void badInputsFailWithClearErrors() {
    try (DecoderLM model = model(root, TINY, 1, DataType.FLOAT32)) {
      TinyTopK wrongWidth = new TinyTopK(root, 12, 32, 4, 1, DataType.FLOAT32);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new SaeTuning(model, wrongWidth, SaeTuning.Config.resa(1)));
      assertTrue(e.getMessage().contains("d_in = 12") && e.getMessage().contains("hidden size is 16"), e.getMessage());
      TinyTopK sae = new TinyTopK(root, 16, 32, 4, 1, DataType.FLOAT32);
      for (int bad : new int[] {-1, 4}) {
        IllegalArgumentException l = assertThrows(IllegalArgumentException.class, () -> new SaeTuning(model, sae, SaeTuning.Config.resa(bad)));
        assertTrue(l.getMessage().contains("splice layer " + bad + " out of range") && l.getMessage().contains("0..3"), l.getMessage());
      }
      try (SaeTuning t = new SaeTuning(model, sae, SaeTuning.Config.resa(3))) { // the last layer is legal: no suffix to adapt
        assertEquals(0, t.adapter().modules().size());
        IllegalArgumentException tok = assertThrows(IllegalArgumentException.class, () -> t.train(List.of(new int[] {1, 2, 40})));
        assertTrue(tok.getMessage().contains("token id 40"), tok.getMessage());
      }
    }
  }
}
