package dev.resa.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;

/**
 * One token per row through {@link DecoderLM} against a {@link KvCache}: the same arithmetic as
 * {@code model.forward(tokens, new Options().decode(cache).positions(positions))}, in about half the tensor operations.
 *
 * <p>At decode time a small model is bound by the cost of each operation, not by arithmetic (a 3.5 M-parameter model
 * does ~7 MFLOP per token, a few microseconds of work, while one op costs microseconds of dispatch), so the step is
 * rearranged to issue fewer of them: counted on {@code bench lm}'s 4-layer model, the general forward creates 237
 * tensors per token (plus Java-scalar tensors for the norm epsilon and the query scale), this step 124:
 * <ul>
 *   <li>q, k and v come from <b>one</b> linear layer whose weight stacks {@code [Wq; Wk; Wv]} with the input
 *       norm's gain folded into its columns;</li>
 *   <li>RoPE, the 1/sqrt(E) query scale and the pass-through of v are one formula over all heads,
 *       {@code rot = x * cos + partner(x) * sin}, with per-position tables laid out per head (q's rows scaled,
 *       v's rows cos 1, sin 0); the partner is a flip of each head's two halves (or of each coordinate pair);</li>
 *   <li>keys and values are written to the cache by slice assignment and read back as views;</li>
 *   <li>norms, residual adds and SwiGLU's products run in place.</li>
 * </ul>
 * Ops go straight to DJL's PyTorch {@link JniUtils} (one JNI call each), skipping the NDArray API's shape checks.
 * The fused weights are built per generation call (so a model trained in between is never stale) and copy q, k
 * and v: {@code (H + 2K) E D} numbers per layer, for R1-Distill-Qwen-1.5B 5 % of the model, freed on close. (Stacking
 * the RoPE partners {@code P Wq; P Wk} into that weight too saves three small ops per layer but nearly doubles the
 * copy; on the bench model both ran at the same CPU time per token, 5.3-6.4 vs 5.1-5.9 ms under load 11-18, so the
 * smaller copy won.)
 *
 * <p>Only the plain model: with an active adapter, hooks, or several tokens per row, use {@link DecoderLM#forward}.
 */
final class DecodeStep implements AutoCloseable {
  private final DecoderLM model;
  private final ModelConfig c;
  private final NDManager manager;
  private final PtNDArray[] qkv; // per layer [(H + 2K) E, D], input gain folded in
  private final PtNDArray[] qkvBias; // per layer [(H + 2K) E], or null entries without q/k/v bias
  /** [capacity, 2 (H + 2K) E]: per position, cos then signed sin per head; q heads scaled by 1/sqrt(E); v heads 1 and 0. */
  private final PtNDArray ropeTable;
  private final PtNDArray eps;
  private final PtNDArray minusHalf;
  private final int capacity;
  private final DataType dtype;

  /** Builds the fused weights and a RoPE table for positions {@code 0 .. capacity-1}. */
  DecodeStep(DecoderLM model, int capacity) {
    this.model = model;
    this.c = model.config();
    this.capacity = capacity;
    this.manager = model.manager().newSubManager();
    this.dtype = w("model.embed_tokens.weight").getDataType();
    int layers = c.numLayers(), h = c.numHeads(), k = c.numKvHeads(), e = c.headDim();
    this.qkv = new PtNDArray[layers];
    this.qkvBias = new PtNDArray[layers];
    boolean grad = JniUtils.isGradMode();
    JniUtils.setGradMode(false); // no autograd record of the fused copies, even inside a training step
    try {
      for (int l = 0; l < layers; l++) fuse(l);
      this.ropeTable = ropeTable();
    } finally {
      JniUtils.setGradMode(grad);
    }
    this.eps = scalar(c.rmsEps());
    this.minusHalf = scalar(-0.5);
  }

  /** Fills {@code qkv[l]} and {@code qkvBias[l]}: rows [q; k; v], the input norm's gain folded in. */
  private void fuse(int l) {
    String p = "model.layers." + l + ".self_attn.";
    PtNDArray stacked = JniUtils.cat(new PtNDArray[] {w(p + "q_proj.weight"), w(p + "k_proj.weight"), w(p + "v_proj.weight")}, 0);
    stacked.attach(manager);
    JniUtils.muli(stacked, w("model.layers." + l + ".input_layernorm.weight")); // (x g) W^T = x (W diag g)^T
    qkv[l] = stacked;
    if (c.qkvBias()) {
      qkvBias[l] = JniUtils.cat(new PtNDArray[] {w(p + "q_proj.bias"), w(p + "k_proj.bias"), w(p + "v_proj.bias")}, 0);
      qkvBias[l].attach(manager);
    }
  }

  /** A 0-d tensor of the model's dtype, made from a double so float64 models get the exact value. */
  private PtNDArray scalar(double value) {
    return (PtNDArray) manager.create(value).toType(dtype, false);
  }

  /** The model's RoPE tables laid out per head for the fused projection, with the query scale and v's identity. */
  private PtNDArray ropeTable() {
    int h = c.numHeads(), k = c.numKvHeads(), e = c.headDim(), nh = h + 2 * k;
    NDArray[] rope = model.ropeTables(); // cos, signed sin: [maxPositions, E]
    double scale = 1 / Math.sqrt(e);
    double[] cosScale = new double[nh], cosShift = new double[nh], sinScale = new double[nh];
    for (int i = 0; i < nh; i++) {
      boolean query = i < h, value = i >= h + k;
      cosScale[i] = query ? scale : value ? 0 : 1;
      cosShift[i] = value ? 1 : 0;
      sinScale[i] = query ? scale : value ? 0 : 1;
    }
    try (NDManager tmp = manager.newSubManager()) {
      Shape perHead = new Shape(1, 1, nh, 1, 1);
      long[] from = {0}, to = {capacity}, step = {1}, shape = {capacity, 1, 1, 1, e};
      NDArray cos = JniUtils.reshape(JniUtils.index((PtNDArray) rope[0], from, to, step, (PtNDManager) tmp), shape);
      NDArray sin = JniUtils.reshape(JniUtils.index((PtNDArray) rope[1], from, to, step, (PtNDManager) tmp), shape);
      NDArray cosPart = cos.mul(tmp.create(cosScale, perHead).toType(dtype, false)).add(tmp.create(cosShift, perHead).toType(dtype, false));
      NDArray sinPart = sin.mul(tmp.create(sinScale, perHead).toType(dtype, false));
      NDArray table = cosPart.concat(sinPart, 1).reshape(capacity, 2L * nh * e); // [capacity, 2 * NH * E]
      table.attach(manager);
      return (PtNDArray) table;
    }
  }

  int capacity() {
    return capacity;
  }

  /**
   * Logits [B, 1, V] (in {@code step}) for one new token per row at the given positions, appending the keys and
   * values to {@code cache}. {@code tokens} and {@code positions} are [B] int64 arrays in {@code step}.
   */
  PtNDArray logits(NDManager step, KvCache cache, PtNDArray tokens, PtNDArray positions) {
    int b = cache.batch(), past = cache.length(), s = past + 1;
    int h = c.numHeads(), k = c.numKvHeads(), g = c.groupSize(), e = c.headDim(), nh = h + 2 * k;
    if (s > capacity) throw new IllegalStateException("decode step past the RoPE table: position " + past + " >= " + capacity);
    boolean grad = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    try {
      PtNDArray x = JniUtils.embedding(JniUtils.reshape(tokens, new long[] {b, 1}), w("model.embed_tokens.weight"), false); // [B, 1, D]
      NDList rope = JniUtils.split(JniUtils.reshape(JniUtils.embedding(positions, ropeTable, false), new long[] {b, 2, nh, 1, e}), new long[] {1, 1}, 1);
      long[] rShape = {b, nh, 1, e};
      PtNDArray cos = JniUtils.reshape((PtNDArray) rope.get(0), rShape), sin = JniUtils.reshape((PtNDArray) rope.get(1), rShape); // [B, NH, 1, E]
      PtNDArray mask = (PtNDArray) cache.padMask(s, step, 4); // [B, 1, 1, S] or null
      boolean half = c.rope() == ModelConfig.Rope.HALF;
      long[] qShape = {b, k, g, e}, oShape = {b, 1, (long) h * e};
      long[] pairs = half ? new long[] {b, nh, 2, e / 2} : new long[] {b, nh, e / 2, 2}, flipAxis = {half ? 2 : 3};
      long[] split = {h, k, k};
      for (int l = 0; l < c.numLayers(); l++) {
        String p = "model.layers." + l + ".";
        // attention
        PtNDArray r = JniUtils.linear(norm(x), qkv[l], qkvBias[l]); // [B, 1, (H + 2K) E]
        PtNDArray partner = JniUtils.reshape(JniUtils.flip(JniUtils.reshape(r, pairs), flipAxis), rShape); // [B, NH, 1, E]
        PtNDArray rot = JniUtils.mul(JniUtils.reshape(r, rShape), cos);
        JniUtils.muli(partner, sin);
        JniUtils.addi(rot, partner); // [B, H + 2K, 1, E]: q (rotated, scaled), k (rotated), v
        NDList qkvParts = JniUtils.split(rot, split, 1);
        cache.write(l, qkvParts.get(1), qkvParts.get(2)); // [B, K, 1, E] each
        PtNDArray q = JniUtils.reshape((PtNDArray) qkvParts.get(0), qShape); // [B, K, G, E]
        PtNDArray keys = JniUtils.transpose(cache.keys(l, s, step), 2, 3); // [B, K, E, S], a view
        PtNDArray scores = JniUtils.matmul(q, keys); // [B, K, G, S]
        if (mask != null) JniUtils.addi(scores, mask);
        PtNDArray probs = JniUtils.softmax(scores, -1, dtype);
        PtNDArray out = JniUtils.reshape(JniUtils.matmul(probs, cache.values(l, s, step)), oShape); // [B, 1, H*E]
        JniUtils.addi(x, JniUtils.linear(out, w(p + "self_attn.o_proj.weight"), null));
        // SwiGLU MLP
        PtNDArray m = norm(x);
        JniUtils.muli(m, w(p + "post_attention_layernorm.weight"));
        PtNDArray gate = JniUtils.linear(m, w(p + "mlp.gate_proj.weight"), null); // [B, 1, I]
        JniUtils.muli(gate, JniUtils.sigmoid(gate));
        JniUtils.muli(gate, JniUtils.linear(m, w(p + "mlp.up_proj.weight"), null));
        JniUtils.addi(x, JniUtils.linear(gate, w(p + "mlp.down_proj.weight"), null));
      }
      cache.advance(1);
      PtNDArray y = norm(x);
      JniUtils.muli(y, w("model.norm.weight"));
      return JniUtils.linear(y, w(c.tieEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight"), null); // [B, 1, V]
    } finally {
      JniUtils.setGradMode(grad);
    }
  }

  /** RMSNorm without the gain: x * (mean(x^2) + eps)^-1/2. */
  private PtNDArray norm(PtNDArray x) {
    PtNDArray ms = JniUtils.mean(JniUtils.square(x), -1, true); // [B, 1, 1]
    JniUtils.addi(ms, eps);
    JniUtils.powi(ms, minusHalf);
    return JniUtils.mul(x, ms);
  }

  private PtNDArray w(String name) {
    return (PtNDArray) model.weights().get(name);
  }

  @Override
  public void close() {
    manager.close();
  }
}
