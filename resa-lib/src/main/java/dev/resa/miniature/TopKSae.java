package dev.resa.miniature;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.resa.io.SafeTensors;
import dev.resa.train.AdamW;
import dev.resa.train.Progress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The miniature's own minimal TopK SAE (sparsify's forward: {@code relu(wEnc (x - bDec) + bEnc)}, keep the top
 * k, decode with unit-norm rows of {@code wDec}, FVU loss). A stand-in until {@code dev.resa.sae.SparseCoder}
 * lands; it trains with AdamW rather than Resa's SignSGD + Schedule-Free.
 */
final class TopKSae implements AutoCloseable {
  final int d;
  final int m;
  final int k;
  private final NDManager manager;
  NDArray wEnc; // [m, d]
  NDArray bEnc; // [m]
  NDArray wDec; // [m, d]
  NDArray bDec; // [d]

  /** Random init as sparsify: wEnc ~ U(±1/sqrt(d)), bEnc = 0, wDec = normalised copy of wEnc, bDec = 0. */
  TopKSae(NDManager parent, int d, int m, int k, long seed) {
    this.d = d;
    this.m = m;
    this.k = k;
    this.manager = parent.newSubManager();
    Random rng = new Random(seed);
    float[] w = new float[m * d];
    for (int i = 0; i < w.length; i++) w[i] = (float) ((rng.nextDouble() * 2 - 1) / Math.sqrt(d));
    wEnc = manager.create(w, new Shape(m, d));
    bEnc = manager.zeros(new Shape(m));
    wDec = normalizeRows(wEnc);
    bDec = manager.zeros(new Shape(d));
  }

  private TopKSae(TopKSae other) {
    this(other.manager.getParentManager(), other.d, other.m, other.k, 0);
    for (int i = 0; i < 4; i++) params().get(i).set(other.params().get(i).toFloatArray());
  }

  /** A copy with its own arrays (the fine-tuned mode starts from a copy of the pre-trained SAE). */
  TopKSae copy() {
    return new TopKSae(this);
  }

  List<NDArray> params() {
    return List.of(wEnc, bEnc, wDec, bDec);
  }

  private static NDArray normalizeRows(NDArray w) {
    return w.div(w.norm(new int[] {1}, true).add(1e-8f)); // [m, d]
  }

  /** Sparse codes [N, m]: the top-k ReLU pre-activations per row, zeros elsewhere. */
  NDArray encode(NDArray x) {
    NDArray centered = x.sub(bDec); // [N, d]
    NDArray pre = centered.getNDArrayInternal().linear(centered, wEnc, bEnc).singletonOrThrow().getNDArrayInternal().relu(); // [N, m]
    NDArray kth = pre.topK(k, -1, true, false).get(0).min(new int[] {-1}, true); // [N, 1]
    return pre.mul(pre.gte(kth).toType(pre.getDataType(), false)); // [N, m]
  }

  NDArray decode(NDArray z) {
    return z.matMul(wDec).add(bDec); // [N, d]
  }

  /** Reconstruction of [..., d] activations (shape kept). */
  NDArray reconstruct(NDArray x) {
    Shape s = x.getShape();
    NDArray flat = x.reshape(-1, d); // [N, d]
    return decode(encode(flat)).reshape(s);
  }

  /** Per-step training record. */
  record StepLog(int step, double fvu, double l0, double deadPct) {}

  /**
   * Trains on the rows of {@code acts} [N, d] for {@code steps} AdamW steps of {@code batch} random rows; bDec
   * starts at the mean of the first batch (as sparsify), decoder rows are renormalised after each step.
   */
  List<StepLog> train(float[][] acts, int steps, int batch, double lr, long seed, String title) {
    List<StepLog> log = new ArrayList<>();
    Random rng = new Random(seed);
    long[] lastFired = new long[m];
    long seen = 0;
    for (NDArray p : params()) p.setRequiresGradient(true);
    try (AdamW opt = new AdamW(new AdamW.Config(lr, 0.9, 0.999, 1e-8, 0), manager);
        Progress.Bar bar = Progress.start(title, steps)) {
      for (int step = 0; step < steps; step++) {
        Progress.checkInterrupted();
        float[] rows = new float[batch * d];
        for (int i = 0; i < batch; i++) System.arraycopy(acts[rng.nextInt(acts.length)], 0, rows, i * d, d);
        try (NDManager sm = manager.newSubManager()) {
          for (NDArray p : params()) p.tempAttach(sm);
          NDArray x = sm.create(rows, new Shape(batch, d)); // [N, d]
          if (step == 0) bDec.set(x.mean(new int[] {0}).toFloatArray());
          NDArray z;
          NDArray fvu;
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            z = encode(x); // [N, m]
            NDArray e = x.sub(decode(z)); // [N, d]
            fvu = e.square().sum().div(x.sub(x.mean(new int[] {0}, true)).square().sum());
            gc.backward(fvu);
          }
          opt.step(params());
          wDec.set(normalizeRows(wDec.stopGradient()).toFloatArray());
          boolean[] fired = z.stopGradient().sum(new int[] {0}).gt(0).toBooleanArray();
          seen += batch;
          for (int j = 0; j < m; j++) if (fired[j]) lastFired[j] = seen;
          double l0 = z.stopGradient().gt(0).sum().toType(ai.djl.ndarray.types.DataType.FLOAT32, false).getFloat() / batch;
          int dead = 0;
          for (long f : lastFired) if (seen - f > 50L * batch) dead++; // not fired in the last 50 batches
          StepLog s = new StepLog(step, fvu.getFloat(), l0, 100.0 * dead / m);
          log.add(s);
          bar.update(step + 1, Map.of("fvu", s.fvu(), "l0", s.l0()));
        }
      }
    }
    for (NDArray p : params()) p.setRequiresGradient(false);
    return log;
  }

  /** FVU of this SAE on rows {@code acts} (no training). */
  double fvu(float[][] acts) {
    try (NDManager sm = manager.newSubManager()) {
      for (NDArray p : params()) p.tempAttach(sm);
      float[] rows = new float[acts.length * d];
      for (int i = 0; i < acts.length; i++) System.arraycopy(acts[i], 0, rows, i * d, d);
      NDArray x = sm.create(rows, new Shape(acts.length, d));
      NDArray e = x.sub(reconstruct(x));
      return e.square().sum().div(x.sub(x.mean(new int[] {0}, true)).square().sum()).getFloat();
    }
  }

  /** Fraction of rows on which each latent fires ([m]), for the density histogram. */
  double[] density(float[][] acts) {
    try (NDManager sm = manager.newSubManager()) {
      for (NDArray p : params()) p.tempAttach(sm);
      float[] rows = new float[acts.length * d];
      for (int i = 0; i < acts.length; i++) System.arraycopy(acts[i], 0, rows, i * d, d);
      NDArray z = encode(sm.create(rows, new Shape(acts.length, d)));
      float[] f = z.gt(0).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mean(new int[] {0}).toFloatArray();
      double[] out = new double[m];
      for (int j = 0; j < m; j++) out[j] = f[j];
      return out;
    }
  }

  /** Latent activations [T][m] for one sequence of activations [T][d] (feature cards, reasoning features). */
  float[][] codes(float[][] acts) {
    try (NDManager sm = manager.newSubManager()) {
      for (NDArray p : params()) p.tempAttach(sm);
      float[] rows = new float[acts.length * d];
      for (int i = 0; i < acts.length; i++) System.arraycopy(acts[i], 0, rows, i * d, d);
      float[] z = encode(sm.create(rows, new Shape(acts.length, d))).toFloatArray();
      float[][] out = new float[acts.length][m];
      for (int i = 0; i < acts.length; i++) System.arraycopy(z, i * m, out[i], 0, m);
      return out;
    }
  }

  void save(Path file) throws IOException {
    SafeTensors.write(file, Map.of("encoder.weight", wEnc, "encoder.bias", bEnc, "W_dec", wDec, "b_dec", bDec));
  }

  static TopKSae load(Path file, NDManager parent, int k) throws IOException {
    try (SafeTensors.Reader r = SafeTensors.open(file)) {
      long[] s = r.entry("encoder.weight").shape();
      TopKSae sae = new TopKSae(parent, (int) s[1], (int) s[0], k, 0);
      sae.wEnc.set(r.readFloats("encoder.weight"));
      sae.bEnc.set(r.readFloats("encoder.bias"));
      sae.wDec.set(r.readFloats("W_dec"));
      sae.bDec.set(r.readFloats("b_dec"));
      return sae;
    }
  }

  @Override
  public void close() {
    manager.close();
  }
}
