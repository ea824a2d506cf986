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
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.resa.core.Scalars;

/**
 * A TopK sparse autoencoder in sparsify's layout, as Resa trains it (resa-algorithm §1.4):
 *
 * <pre>
 *   pre   = relu(W_enc (x − b_dec) + b_enc)          // [N, n], computed in token chunks, never kept
 *   vals, idx = topk(pre, k)                         // [N, k]
 *   x̂     = Σ_j vals_j · W_dec[idx_j] + b_dec          // a sparse [N, n] code times W_dec
 *   fvu   = Σ (x − x̂)² / Σ (x − mean_tokens(x))²
 * </pre>
 *
 * Nothing here records an autograd graph. {@link #forwardBackward} writes the backward out by hand and keeps it as
 * sparse as the forward: per token only the k selected rows of {@code W_enc}, {@code b_enc} and {@code W_dec} get
 * gradient, so a step costs the encoder GEMM plus O(k·d) per token: ≈ 2dn + 8kd FLOP as in anchors §4.2.
 */
public final class SparseCoder implements AutoCloseable {
  /**
   * Budget for one dense pre-activation chunk (floats): 2^23 = 32 MB in fp32, 512 tokens at n = 16384. In
   * {@code resa bench sae} on 2 cores, 512-token chunks ran the encoder GEMM faster than 256 or 1024 (measured by
   * process CPU time): big enough for the GEMM, small enough that glibc reuses the block each step.
   */
  private static final long PRE_ACT_BUDGET = 1L << 23;
  /** Budget for one block of temporaries in the backward (floats): 2^22 = 16 MB in fp32. */
  private static final long BLOCK_BUDGET = 1L << 22;

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

  private List<NDArray> gradients;

  /**
   * The gradient buffers {@link #forwardBackward} adds to, in {@link #parameters()} order (zeros, allocated on
   * first use, so an SAE used only for inference carries none). Whoever steps the optimiser zeroes them.
   */
  public List<NDArray> gradients() {
    if (gradients == null) gradients = parameters().stream().map(p -> manager.zeros(p.getShape(), p.getDataType(), p.getDevice())).toList();
    return gradients;
  }

  private int chunkTokens;

  /** Tokens per dense pre-activation chunk: by default one [chunk, n] buffer stays within 2^25 floats. */
  public int chunkTokens() {
    return chunkTokens > 0 ? chunkTokens : (int) Math.max(1, PRE_ACT_BUDGET / config.numLatents());
  }

  private long blockFloats = BLOCK_BUDGET;

  /** Shrinks the backward's temporary blocks (floats), so tests can exercise many blocks on tiny shapes. */
  void setBlockFloats(long floats) {
    if (floats <= 0) throw new IllegalArgumentException("block must be positive, got " + floats);
    this.blockFloats = floats;
  }

  /** Overrides the token chunk of the encoder (memory versus GEMM efficiency). */
  public void setChunkTokens(int tokens) {
    if (tokens <= 0) throw new IllegalArgumentException("chunk must be positive, got " + tokens);
    this.chunkTokens = tokens;
  }

  /**
   * Top-k of {@code relu(W_enc (x − b_dec) + b_enc)} for x [N, d], without autograd, chunked over tokens so the
   * [chunk, n] pre-activations stay bounded.
   *
   * <p>The ReLU is applied to the k selected values rather than to all n: ReLU is monotone, so the values are the
   * same as sparsify's top-k of the rectified pre-activations. Only when fewer than k pre-activations are positive
   * do the indices of the zero-valued slots differ (any zero would do there); those slots add nothing to x̂ or to
   * any gradient, and a latent counts as firing only where its activation is positive.
   */
  public TopK encode(NDArray x) {
    return encode(x, config.k(), null);
  }

  /** Top-{@code kk} after adding {@code penalty} [1, n] (0 or −inf) to the pre-activations, or plain when null. */
  private TopK encode(NDArray x, int kk, NDArray penalty) {
    checkInput(x);
    long tokens = x.getShape().get(0);
    int chunk = chunkTokens();
    List<NDArray> vals = new ArrayList<>();
    List<NDArray> idx = new ArrayList<>();
    for (long s = 0; s < tokens; s += chunk) {
      NDArray xs = tokens <= chunk ? x.stopGradient() : x.stopGradient().get(s + ":" + Math.min(tokens, s + chunk));
      NDArray saeIn = xs.sub(bDec); // [chunk, d]
      NDArray pre = saeIn.getNDArrayInternal().linear(saeIn, wEnc, bEnc).singletonOrThrow(); // [chunk, n], one fused addmm
      saeIn.close();
      if (penalty != null) pre.addi(penalty);
      NDList top = pre.topK(kk, -1, true, false); // values [chunk, kk], indices [chunk, kk]
      vals.add(Scalars.relu(top.get(0)));
      idx.add(top.get(1));
      top.get(0).close();
      pre.close();
    }
    return vals.size() == 1 ? new TopK(vals.get(0), idx.get(0)) : new TopK(NDArrays.concat(new NDList(vals)), NDArrays.concat(new NDList(idx)));
  }

  /**
   * x̂ = Σ_j acts_j · W_dec[idx_j] + b_dec for acts, indices [N, k] ([N, d]): the codes as a sparse [N, n] matrix
   * times {@code W_dec}, so neither a dense code nor the [N, k, d] gathered rows are ever built. No gradient.
   */
  public NDArray decode(NDArray acts, NDArray indices) {
    NDArray code = CodePattern.of(indices, config.numLatents(), false).codes(acts); // [N, n], N·k entries
    NDArray xHat = code.matMul(wDec).addi(bDec); // [N, d]
    code.close();
    return xHat;
  }

  /** Forward with FVU against this batch's own variance; no AuxK. */
  public ForwardOutput forward(NDArray x) {
    return forward(x, null, null);
  }

  /**
   * The training forward, without gradients. {@code deadMask} [n] (1 = dead) turns on sparsify's AuxK loss (k_aux =
   * d/2 over the dead latents, reconstructing the residual); null turns it off. {@code totalVariance} (a scalar) is
   * the FVU denominator Σ(x − mean)²; pass the whole batch's value when x is one chunk of it, null to use x's own.
   */
  public ForwardOutput forward(NDArray x, NDArray deadMask, NDArray totalVariance) {
    return run(x, deadMask, totalVariance, Double.NaN);
  }

  /**
   * {@link #forward} plus the gradients of {@code fvu + auxkAlpha · auxk}, added to each parameter's gradient
   * buffer. The backward is written out by hand, sparse like the forward: per token only the k selected rows of
   * {@code W_enc}, {@code b_enc} and {@code W_dec} receive gradient, through sparse-times-dense products, and
   * nothing of size [N, n] or [N, k, d] is allocated (beyond the encoder's own chunk). With e = x − x̂, tv the total
   * variance, S the sparse code (values a, after ReLU) and S′ the same pattern holding the pre-activation gradients:
   *
   * <pre>
   *   G      = ∂fvu/∂x̂ = −2e / tv                          // [N, d]
   *   ∇W_dec = Sᵀ G                                         // [n, d]: k rows per token
   *   ∂a     = ⟨G_t, W_dec[idx_tj]⟩, masked where a = 0       // [N, k]
   *   ∇W_enc = S′ᵀ (x − b_dec),  ∇b_enc = S′ᵀ 1               // [n, d], [n]
   *   ∇b_dec = Σ_t G_t − ∇b_enc · W_enc                       // decoder bias, minus the encoder's input shift
   * </pre>
   *
   * The AuxK term adds the same four products for its own code, with G = 2·scale·(ê − e)/tv (e held constant).
   */
  public ForwardOutput forwardBackward(NDArray x, NDArray deadMask, NDArray totalVariance, double auxkAlpha) {
    if (!(auxkAlpha >= 0)) throw new IllegalArgumentException("auxkAlpha must be >= 0, got " + auxkAlpha);
    return run(x, deadMask, totalVariance, auxkAlpha);
  }

  /** Forward, and the backward too unless {@code auxkAlpha} is NaN. */
  private ForwardOutput run(NDArray x, NDArray deadMask, NDArray totalVariance, double auxkAlpha) {
    checkInput(x);
    boolean backward = !Double.isNaN(auxkAlpha);
    NDArray tv = totalVariance != null ? totalVariance : totalVariance(x);
    TopK top = encode(x); // [N, k] each
    NDArray xHat = decode(top.values(), top.indices()); // [N, d]
    NDArray e = x.stopGradient().sub(xHat); // [N, d]
    NDArray fvu = e.square().sum().div(tv);
    if (backward) backwardThroughCode(x, top, e.div(tv).muli(-2)); // G = −2e/tv
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
        TopK aux = encode(x, (int) Math.min(kAux, numDead), deadPenalty); // [N, k_aux] each
        NDArray r = decode(aux.values(), aux.indices()).subi(e); // ê − e, [N, d]
        auxk = r.square().sum().muli(scale).div(tv);
        if (backward && auxkAlpha > 0) backwardThroughCode(x, aux, r.div(tv).muli(2 * scale * auxkAlpha));
      }
    }
    return new ForwardOutput(top.values(), top.indices(), xHat, fvu, auxk);
  }

  /**
   * Adds to the parameters' gradients what flows back from {@code gOut} = ∂loss/∂x̂ [N, d] through the decoder and
   * the encoder, for the code {@code top} of x (see {@link #forwardBackward}).
   */
  private void backwardThroughCode(NDArray x, TopK top, NDArray gOut) {
    int n = config.numLatents();
    NDArray saeIn = x.stopGradient().sub(bDec); // [N, d]
    CodePattern pattern = CodePattern.of(top.indices(), n, true);
    List<NDArray> grads = gradients();
    pattern.addTransposedProduct(top.values(), gOut, grads.get(2), blockFloats); // ∇W_dec += Sᵀ G
    NDArray gActs = rowDots(gOut, wDec, top.indices(), blockFloats); // [N, k]
    NDArray gPre = gActs.muli(top.values().gt(0)); // ReLU: no gradient where the activation is 0
    pattern.addTransposedProduct(gPre, saeIn, grads.get(0), blockFloats); // ∇W_enc += S′ᵀ (x − b_dec)
    NDArray gradT = pattern.transposedCodes(gPre); // S′ᵀ, [n, N]
    NDArray gBEnc = gradT.matMul(x.getManager().ones(new Shape(x.getShape().get(0), 1), x.getDataType())).reshape(n); // [n]
    grads.get(1).addi(gBEnc);
    NDArray gBDec = gOut.sum(new int[] {0}).subi(gBEnc.expandDims(0).matMul(wEnc).reshape(-1)); // [d]
    accumulate(grads.get(3), gBDec);
  }

  /** ⟨g_t, table[idx_tj]⟩ for g [N, d], idx [N, k] ([N, k]), gathering the rows in token blocks of bounded size. */
  private static NDArray rowDots(NDArray g, NDArray table, NDArray indices, long blockFloats) {
    long tokens = indices.getShape().get(0);
    long block = Math.max(1, blockFloats / (indices.getShape().get(1) * table.getShape().get(1)));
    List<NDArray> parts = new ArrayList<>();
    for (long s = 0; s < tokens; s += block) {
      String range = s + ":" + Math.min(tokens, s + block);
      NDArray rows = gatherRows(table, indices.get(range)); // [b, k, d]
      parts.add(rows.batchMatMul(g.get(range).expandDims(-1)).squeeze(-1)); // [b, k]
      rows.close();
    }
    return parts.size() == 1 ? parts.get(0) : NDArrays.concat(new NDList(parts));
  }

  private static NDArray gatherRows(NDArray table, NDArray indices) {
    return table.getNDArrayInternal().embedding(indices, table, SparseFormat.DENSE).singletonOrThrow();
  }

  /**
   * Where a batch's k codes per token sit in the [N, n] code matrix, ready to become sparse COO matrices holding any
   * values: S [N, n] with entries in token order, or Sᵀ [n, N] with entries sorted by latent. libtorch multiplies a
   * sparse COO matrix by a dense one with one row update per entry, in O(N·k·d) on CPU and CUDA alike; on CPU the
   * update runs several times faster when the rows it writes come in order, which is why Sᵀ is sorted.
   *
   * @param tokenMajor coordinates (token, latent) [2, N·k], row-major as the indices come
   * @param latentMajor coordinates (latent, token) [2, N·k] sorted by latent, or null when not needed
   * @param order the permutation that sorts the entries by latent, or null
   * @param sortedLatents the latent of each entry of {@code latentMajor}, on the Java side, or null
   */
  private record CodePattern(NDArray tokenMajor, NDArray latentMajor, NDArray order, long[] sortedLatents, long tokens, long n) {
    static CodePattern of(NDArray indices, long n, boolean transposedToo) {
      long tokens = indices.getShape().get(0);
      long k = indices.getShape().get(1);
      NDArray latent = indices.flatten(); // [N·k]
      NDArray token = indices.getManager().arange(0, (int) tokens, 1, DataType.INT64, indices.getDevice())
          .expandDims(1).broadcast(new Shape(tokens, k)).flatten(); // [N·k]: 0,0,…,1,1,…
      NDArray tokenMajor = NDArrays.stack(new NDList(token, latent)); // [2, N·k]
      if (!transposedToo) return new CodePattern(tokenMajor, null, null, null, tokens, n);
      NDArray order = latent.argSort(); // [N·k]
      NDArray sorted = latent.get(order); // [N·k]
      NDArray latentMajor = NDArrays.stack(new NDList(sorted, token.get(order))); // [2, N·k]
      return new CodePattern(tokenMajor, latentMajor, order, sorted.toLongArray(), tokens, n);
    }

    /** S: {@code values} [N, k] placed at the codes, as a sparse [N, n] matrix. */
    NDArray codes(NDArray values) {
      return JniUtils.createSparseCoo((PtNDArray) tokenMajor, (PtNDArray) values.flatten(), new Shape(tokens, n));
    }

    /** Sᵀ: {@code values} [N, k] placed at the codes, as a sparse [n, N] matrix sorted by latent. */
    NDArray transposedCodes(NDArray values) {
      return JniUtils.createSparseCoo((PtNDArray) latentMajor, (PtNDArray) values.flatten().get(order), new Shape(n, tokens));
    }

    /**
     * {@code out += Sᵀ · dense} for S holding {@code values} [N, k], dense [N, d] and out [n, d], one block of latents
     * at a time so no temporary exceeds the block budget: a block's entries are a contiguous run of the sorted coordinates.
     */
    void addTransposedProduct(NDArray values, NDArray dense, NDArray out, long blockFloats) {
      NDArray sortedValues = values.flatten().get(order); // [N·k]
      long block = Math.max(1, blockFloats / dense.getShape().get(1));
      for (long l0 = 0; l0 < n; l0 += block) {
        long l1 = Math.min(n, l0 + block);
        int e0 = firstEntryAtOrAfter(l0);
        int e1 = firstEntryAtOrAfter(l1);
        if (e0 == e1) continue; // no token chose a latent of this block
        String entries = e0 + ":" + e1;
        NDArray rows = latentMajor.get("0, " + entries).sub(l0); // [e] block-local latent
        NDArray coords = NDArrays.stack(new NDList(rows, latentMajor.get("1, " + entries))); // [2, e]
        NDArray codes = JniUtils.createSparseCoo((PtNDArray) coords, (PtNDArray) sortedValues.get(entries), new Shape(l1 - l0, tokens));
        NDArray product = codes.matMul(dense); // [l1 − l0, d]
        try (NDArray view = out.get(l0 + ":" + l1)) {
          view.addi(product); // a view: writes into out
        }
        product.close();
      }
    }

    /** Index of the first sorted entry whose latent is ≥ {@code latent} (a lower bound by bisection). */
    private int firstEntryAtOrAfter(long latent) {
      int lo = 0;
      int hi = sortedLatents.length;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (sortedLatents[mid] < latent) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }
  }

  /** {@code grad += delta}, then frees delta. */
  private static void accumulate(NDArray grad, NDArray delta) {
    grad.addi(delta);
    delta.close();
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
    NDArray g = gradients().get(2);
    NDArray parallel = g.expandDims(1).batchMatMul(wDec.expandDims(2)).reshape(-1, 1); // [n, 1]: row-wise g_i·w_i
    long n = config.numLatents();
    long block = Math.max(1, blockFloats / config.dIn()); // row blocks keep the temporary small
    for (long s = 0; s < n; s += block) {
      String rows = s + ":" + Math.min(n, s + block);
      try (NDArray gRows = g.get(rows); NDArray wRows = wDec.get(rows); NDArray pRows = parallel.get(rows)) {
        NDArray along = wRows.mul(pRows); // [block, d]
        gRows.subi(along); // gRows is a view: this writes into g
        along.close();
      }
    }
    parallel.close();
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
