package dev.resa.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import dev.resa.core.Scalars;

/**
 * A TopK sparse autoencoder in sparsify's layout, as Resa trains it (resa-algorithm §1.4):
 *
 * <pre>
 *   pre   = relu(W_enc (x − b_dec) + b_enc)          // [N, n], computed in token chunks, never kept
 *   vals, idx = topk(pre, k)                         // [N, k]
 *   x̂     = Σ_j vals_j · W_dec[idx_j] + b_dec          // gather k decoder rows, no dense [N, n] decode
 *   fvu   = Σ (x − x̂)² / Σ (x − mean_tokens(x))²
 * </pre>
 *
 * The encoder GEMM runs without autograd; only the selected latents are recomputed differentiably from the k
 * gathered encoder rows. So the backward touches k rows of {@code W_enc}, {@code b_enc} and {@code W_dec} per token
 * (torch's embedding backward scatter-adds them), costing ≈ 2dn + 8kd FLOP per token as in anchors §4.2.
 */
public final class SparseCoder implements AutoCloseable {
  /** Activation budget for one dense pre-activation chunk (floats): 2^25 = 128 MB in fp32. */
  private static final long PRE_ACT_BUDGET = 1L << 25;

  private final SparseCoderConfig config;
  private final NDManager manager;
  private final NDArray wEnc; // [n, d]  (sparsify: encoder.weight)
  private final NDArray bEnc; // [n]     (encoder.bias)
  private final NDArray wDec; // [n, d]
  private final NDArray bDec; // [d]

  /** What {@link #forward} returns. {@code auxkLoss} is null when AuxK is off or no latent is dead. */
  public record ForwardOutput(NDArray latentActs, NDArray latentIndices, NDArray reconstruction, NDArray fvu, NDArray auxkLoss) {}

  /** Top-k latents of a batch: values [N, k] (after ReLU) and int64 indices [N, k]. */
  public record TopK(NDArray values, NDArray indices) {}

  private SparseCoder(SparseCoderConfig config, NDManager manager, NDArray wEnc, NDArray bEnc, NDArray wDec, NDArray bDec) {
    this.config = config;
    this.manager = manager;
    this.wEnc = wEnc;
    this.bEnc = bEnc;
    this.wDec = wDec;
    this.bDec = bDec;
    for (NDArray p : parameters()) p.setRequiresGradient(true);
  }

  /**
   * Resa's init, seeded with a Java RNG so it is identical on every device: encoder weights kaiming-uniform
   * U(±1/√d) (torch's nn.Linear default), encoder bias 0, {@code W_dec} = encoder rows at unit norm, {@code b_dec} 0
   * (the trainer sets it to the first batch's mean).
   */
  public static SparseCoder init(SparseCoderConfig config, NDManager parent, long seed) {
    int n = config.numLatents();
    int d = config.dIn();
    float[] w = new float[Math.multiplyExact(n, d)];
    SplittableRandom rng = new SplittableRandom(seed);
    double bound = 1.0 / Math.sqrt(d);
    for (int i = 0; i < w.length; i++) w[i] = (float) ((2 * rng.nextDouble() - 1) * bound);
    NDManager m = parent.newSubManager();
    NDArray wEnc = m.create(w, new Shape(n, d));
    NDArray wDec = wEnc.duplicate();
    SparseCoder sae = new SparseCoder(config, m, wEnc, m.zeros(new Shape(n)), wDec, m.zeros(new Shape(d)));
    sae.normalizeDecoder();
    return sae;
  }

  /**
   * Wraps existing tensors (copied into a new sub-manager of {@code parent}); shapes are checked against the
   * config with an error naming the tensor.
   */
  public static SparseCoder of(SparseCoderConfig config, NDManager parent, NDArray wEnc, NDArray bEnc, NDArray wDec, NDArray bDec) {
    long n = config.numLatents();
    long d = config.dIn();
    check("encoder.weight", wEnc, new Shape(n, d));
    check("encoder.bias", bEnc, new Shape(n));
    check("W_dec", wDec, new Shape(n, d));
    check("b_dec", bDec, new Shape(d));
    NDManager m = parent.newSubManager();
    return new SparseCoder(config, m, copy(wEnc, m), copy(bEnc, m), copy(wDec, m), copy(bDec, m));
  }

  private static NDArray copy(NDArray a, NDManager m) {
    NDArray view = a.stopGradient();
    NDArray c = view.duplicate();
    view.close(); // only the wrapper: the storage is shared and reference-counted
    c.attach(m);
    return c;
  }

  private static void check(String name, NDArray a, Shape expected) {
    if (!a.getShape().equals(expected)) {
      throw new IllegalArgumentException("SAE tensor '" + name + "' has shape " + a.getShape() + " but the config says " + expected);
    }
  }

  public SparseCoderConfig config() {
    return config;
  }

  public NDManager manager() {
    return manager;
  }

  public NDArray wEnc() {
    return wEnc;
  }

  public NDArray bEnc() {
    return bEnc;
  }

  public NDArray wDec() {
    return wDec;
  }

  public NDArray bDec() {
    return bDec;
  }

  /** Trainable tensors in a fixed order: W_enc, b_enc, W_dec, b_dec. */
  public List<NDArray> parameters() {
    return List.of(wEnc, bEnc, wDec, bDec);
  }

  private int chunkTokens;

  /** Tokens per dense pre-activation chunk: by default one [chunk, n] buffer stays within 2^25 floats. */
  public int chunkTokens() {
    return chunkTokens > 0 ? chunkTokens : (int) Math.max(1, PRE_ACT_BUDGET / config.numLatents());
  }

  /** Overrides the token chunk of the encoder (memory versus GEMM efficiency). */
  public void setChunkTokens(int tokens) {
    if (tokens <= 0) throw new IllegalArgumentException("chunk must be positive, got " + tokens);
    this.chunkTokens = tokens;
  }

  /**
   * Top-k of {@code relu(W_enc (x − b_dec) + b_enc)} for x [N, d], without autograd, chunked over tokens so the
   * [chunk, n] pre-activations stay bounded.
   */
  public TopK encode(NDArray x) {
    return encode(x, config.k(), null);
  }

  /** Top-{@code kk} after adding {@code penalty} [1, n] (0 or −inf) to the pre-activations, or plain when null. */
  private TopK encode(NDArray x, int kk, NDArray penalty) {
    checkInput(x);
    long tokens = x.getShape().get(0);
    int chunk = chunkTokens();
    NDArray w = wEnc.stopGradient();
    NDArray b = bEnc.stopGradient();
    NDArray c = bDec.stopGradient();
    List<NDArray> vals = new ArrayList<>();
    List<NDArray> idx = new ArrayList<>();
    for (long s = 0; s < tokens; s += chunk) {
      NDArray xs = tokens <= chunk ? x.stopGradient() : x.stopGradient().get(s + ":" + Math.min(tokens, s + chunk));
      NDArray lin = xs.sub(c).matMul(w.transpose()).addi(b); // [chunk, n]
      NDArray pre = Scalars.relu(lin); // [chunk, n]
      lin.close();
      if (penalty != null) pre.addi(penalty);
      NDList top = pre.topK(kk, -1, true, false); // values [chunk, kk], indices [chunk, kk]
      vals.add(top.get(0));
      idx.add(top.get(1));
      pre.close();
    }
    return vals.size() == 1 ? new TopK(vals.get(0), idx.get(0)) : new TopK(NDArrays.concat(new NDList(vals)), NDArrays.concat(new NDList(idx)));
  }

  /**
   * The selected latents' activations, recomputed differentiably from the k gathered encoder rows:
   * {@code relu(W_enc[idx]·(x − b_dec) + b_enc[idx])} ([N, k]). Gradients reach only those rows.
   */
  public NDArray activations(NDArray x, NDArray indices) {
    NDArray rows = gatherRows(wEnc, indices); // [N, k, d]
    NDArray saeIn = x.sub(bDec).expandDims(-1); // [N, d, 1]
    NDArray dot = rows.batchMatMul(saeIn).squeeze(-1); // [N, k]
    NDArray bias = gatherRows(bEnc.expandDims(-1), indices).squeeze(-1); // [N, k]
    return Scalars.relu(dot.add(bias));
  }

  /** x̂ = Σ_j acts_j · W_dec[idx_j] + b_dec for acts, indices [N, k]: a k-weighted sum of gathered rows ([N, d]). */
  public NDArray decode(NDArray acts, NDArray indices) {
    NDArray rows = gatherRows(wDec, indices); // [N, k, d]
    return acts.expandDims(1).batchMatMul(rows).squeeze(1).add(bDec); // [N, d]
  }

  private static NDArray gatherRows(NDArray table, NDArray indices) {
    return table.getNDArrayInternal().embedding(indices, table, SparseFormat.DENSE).singletonOrThrow();
  }

  /** Forward with FVU against this batch's own variance; no AuxK. */
  public ForwardOutput forward(NDArray x) {
    return forward(x, null, null);
  }

  /**
   * The training forward. {@code deadMask} [n] (1 = dead) turns on sparsify's AuxK loss (k_aux = d/2 over the dead
   * latents, reconstructing the residual); null turns it off. {@code totalVariance} (a scalar) is the FVU
   * denominator Σ(x − mean)²; pass the whole batch's value when x is one chunk of it, null to use x's own.
   */
  public ForwardOutput forward(NDArray x, NDArray deadMask, NDArray totalVariance) {
    checkInput(x);
    NDArray tv = totalVariance != null ? totalVariance : totalVariance(x);
    NDArray idx = encode(x).indices(); // [N, k]
    NDArray acts = activations(x, idx); // [N, k]
    NDArray xHat = decode(acts, idx); // [N, d]
    NDArray e = x.sub(xHat); // [N, d]
    NDArray fvu = e.square().sum().div(tv);
    NDArray auxk = null;
    if (deadMask != null) {
      long numDead = (long) deadMask.sum().toType(DataType.FLOAT64, false).getDouble();
      if (numDead > 0) {
        int kAux = config.dIn() / 2;
        double scale = Math.min(numDead / (double) kAux, 1.0);
        NDArray dead = deadMask.toType(DataType.BOOLEAN, false);
        NDArray zeros = x.getManager().zeros(new Shape(config.numLatents()), x.getDataType());
        NDArray ninf = x.getManager().full(new Shape(config.numLatents()), Float.NEGATIVE_INFINITY, x.getDataType());
        NDArray deadPenalty = NDArrays.where(dead, zeros, ninf).expandDims(0); // [1, n]: 0 where dead, −inf elsewhere
        NDArray auxIdx = encode(x, (int) Math.min(kAux, numDead), deadPenalty).indices(); // [N, k_aux]
        NDArray eHat = decode(activations(x, auxIdx), auxIdx); // [N, d]
        auxk = eHat.sub(e.stopGradient()).square().sum().mul(Scalars.of(tv, scale)).div(tv);
      }
    }
    return new ForwardOutput(acts, idx, xHat, fvu, auxk);
  }

  /** Σ (x − mean over tokens)² for x [N, d], the FVU denominator (no gradient). */
  public static NDArray totalVariance(NDArray x) {
    NDArray xs = x.stopGradient();
    return xs.sub(xs.mean(new int[] {0}, true)).square().sum();
  }

  /**
   * Inference reconstruction for splicing into a model: accepts [..., d], returns the same shape, no gradient.
   * Use as {@code Hooks.replace(point, sae::reconstruct, true)}.
   */
  public NDArray reconstruct(NDArray x) {
    Shape shape = x.getShape();
    try (NDManager scope = manager.newSubManager()) {
      for (NDArray p : parameters()) p.tempAttach(scope);
      NDArray flat = x.stopGradient().reshape(-1, config.dIn()); // [N, d]
      flat.tempAttach(scope);
      TopK top = encode(flat);
      NDArray out = decode(top.values(), top.indices()).stopGradient().reshape(shape);
      out.attach(x.getManager());
      return out;
    }
  }

  /** Renormalises the {@code W_dec} rows to unit norm in place (sparsify: divide by norm + float eps). */
  public void normalizeDecoder() {
    float eps = 1.1920929e-7f; // torch.finfo(float32).eps
    NDArray norm = wDec.norm(new int[] {1}, true); // [n, 1]
    wDec.divi(norm.addi(eps));
    norm.close();
  }

  /** Removes, from {@code W_dec}'s gradient, the component parallel to each (unit) row: g_i ← g_i − (g_i·w_i) w_i. */
  public void removeGradientParallelToDecoder() {
    NDArray g = wDec.getGradient();
    NDArray parallel = g.mul(wDec).sum(new int[] {1}, true); // [n, 1]
    g.subi(parallel.mul(wDec));
  }

  private void checkInput(NDArray x) {
    Shape s = x.getShape();
    if (s.dimension() != 2 || s.get(1) != config.dIn()) {
      throw new IllegalArgumentException("SAE input must be [N, " + config.dIn() + "] (d_in), got " + s);
    }
  }

  @Override
  public void close() {
    manager.close();
  }
}
