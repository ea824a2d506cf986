package dev.resa.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.resa.core.Scalars;

/**
 * A Qwen2 / Llama decoder-only language model written directly on DJL NDArrays, top to bottom:
 *
 * <pre>
 *   h = embed(tokens)                                   hook "embed"
 *   for each layer l:
 *     a = attn(rmsnorm(h))       GQA + RoPE + causal    hook "layers.l.attn"
 *     h = h + a
 *     m = mlp(rmsnorm(h))        SwiGLU                 hook "layers.l.mlp"
 *     h = h + m                                         hook "layers.l"  (the residual stream)
 *   logits = lm_head(rmsnorm(h))
 * </pre>
 *
 * Shapes use B = batch, T = new tokens, S = keys attended (cache + new), D = hidden, H = query heads,
 * K = key/value heads, G = H / K, E = head dim, V = vocab.
 *
 * <p>A forward can stop after layer N ({@link Options#stopAfter}) to capture activations cheaply, and can start
 * from layer N's input ({@link #resume}) so that Stage II runs a frozen prefix once.
 */
public final class DecoderLM implements AutoCloseable {
  /**
   * Score added for padded keys. Finite on purpose: a padded query sees only padded keys, and -inf there would
   * turn its softmax into NaN, which then leaks into real rows through 0 * NaN in the value product.
   */
  static final float PAD_SCORE = -1e9f;

  private final ModelConfig config;
  private final Weights weights;
  private final NDManager buffers;
  /** cos(p * theta_i) laid out per coordinate of a head, so RoPE is {@code x * cos + partner(x) * sin}. */
  private final NDArray ropeCos; // [maxPositions, E]
  /** sin(p * theta_i) per coordinate, negated on the coordinate that receives {@code -partner * sin}. */
  private final NDArray ropeSin; // [maxPositions, E]
  private Adapter adapter;
  private boolean adapterEnabled = true;

  public DecoderLM(ModelConfig config, Weights weights) {
    this.config = config;
    this.weights = weights;
    for (String name : Weights.names(config)) {
      Shape want = Weights.expectedShape(config, name);
      if (!weights.contains(name)) throw new IllegalArgumentException("missing weight '" + name + "'");
      Shape got = weights.get(name).getShape();
      if (!got.equals(want)) {
        throw new IllegalArgumentException("weight '" + name + "' has shape " + got + " but the config implies " + want);
      }
    }
    this.buffers = weights.manager().newSubManager();
    DataType dtype = weights.get("model.embed_tokens.weight").getDataType();
    int e = config.headDim(), half = e / 2;
    boolean interleaved = config.rope() == ModelConfig.Rope.INTERLEAVED;
    double[] cos = new double[config.maxPositions() * e]; // double, so float64 models get exact tables
    double[] sin = new double[cos.length];
    for (int p = 0; p < config.maxPositions(); p++) {
      for (int c = 0; c < e; c++) {
        int i = interleaved ? c / 2 : c % half; // frequency index of coordinate c
        boolean first = interleaved ? c % 2 == 0 : c < half; // first member of its pair gets -partner * sin
        double angle = p * Math.pow(config.ropeTheta(), -2.0 * i / e);
        cos[p * e + c] = Math.cos(angle);
        sin[p * e + c] = first ? -Math.sin(angle) : Math.sin(angle);
      }
    }
    this.ropeCos = table(cos, dtype);
    this.ropeSin = table(sin, dtype);
  }

  /** A [maxPositions, E] table in {@code dtype}; the float64 staging copy (a direct buffer) is freed at once. */
  private NDArray table(double[] values, DataType dtype) {
    NDArray staged = buffers.create(values, new Shape(config.maxPositions(), config.headDim()));
    if (dtype == DataType.FLOAT64) return staged;
    NDArray out = staged.toType(dtype, false);
    staged.close();
    return out;
  }

  public ModelConfig config() {
    return config;
  }

  public Weights weights() {
    return weights;
  }

  public NDManager manager() {
    return weights.manager();
  }

  /** The RoPE tables {cos, signed sin}, each [maxPositions, E], for {@link DecodeStep}. */
  NDArray[] ropeTables() {
    return new NDArray[] {ropeCos, ropeSin};
  }

  /** Whether an adapter currently changes the forward pass. */
  boolean adapterActive() {
    return adapter != null && adapterEnabled;
  }

  /** Installs (or removes, with null) an adapter such as LoRA; it is applied while enabled. */
  public void setAdapter(Adapter adapter) {
    this.adapter = adapter;
  }

  public Adapter adapter() {
    return adapter;
  }

  /** Turns the adapter off until the returned handle is closed (the teacher pass of SAE-Tuning). */
  public AutoCloseable disableAdapter() {
    boolean before = adapterEnabled;
    adapterEnabled = false;
    return () -> adapterEnabled = before;
  }

  /**
   * A per-step scope: arrays derived from weights, RoPE tables and adapter parameters land here and are freed on
   * close. Wrap every training step and decode step in one so native memory stays flat (views of a {@link KvCache}
   * land in the caller's manager by themselves).
   */
  public NDManager stepScope() {
    NDManager step = weights.stepScope();
    ropeCos.tempAttach(step);
    ropeSin.tempAttach(step);
    if (adapter != null) for (NDArray p : adapter.parameters()) p.tempAttach(step);
    return step;
  }

  /** Per-call options; every field is optional. */
  public static final class Options {
    Hooks hooks = Hooks.NONE;
    int stopAfter = -1;
    KvCache cache;
    NDArray positions;
    NDArray padMask;
    boolean lastOnly;

    public Options hooks(Hooks h) {
      this.hooks = h;
      return this;
    }

    /** Stop after decoder layer {@code layer} and return its output (no final norm, no logits). */
    public Options stopAfter(int layer) {
      this.stopAfter = layer;
      return this;
    }

    /**
     * Decode incrementally against {@code cache} (keys/values of earlier tokens), computing logits for the last
     * position only ([B, 1, V]): the next token is all a decoding step needs.
     */
    public Options decode(KvCache c) {
      this.cache = c;
      this.lastOnly = true;
      return this;
    }

    /** Position ids [B, T] (int64) when rows are left-padded; default is 0..T-1 after the cache. */
    public Options positions(NDArray p) {
      this.positions = p;
      return this;
    }

    /** Key validity [B, T] (1 = real token, 0 = padding) for a padded batch without a cache. */
    public Options attentionMask(NDArray validity) {
      this.padMask = validity;
      return this;
    }
  }

  /** What a forward returns: the residual stream where it stopped and, for a full pass, the logits. */
  public record Output(NDArray hidden, NDArray logits) {}

  /** Logits [B, T, V] for int64 tokens [B, T]. */
  public NDArray logits(NDArray tokens) {
    return forward(tokens, new Options()).logits();
  }

  public Output forward(NDArray tokens, Options o) {
    o.hooks.validate(config);
    NDArray h = embed(tokens); // [B, T, D]
    h = o.hooks.apply("embed", h);
    return run(h, 0, o);
  }

  /** Continues a forward from {@code hidden}, the input of layer {@code fromLayer} ([B, T, D]). */
  public Output resume(NDArray hidden, int fromLayer, Options o) {
    if (fromLayer < 0 || fromLayer > config.numLayers()) {
      throw new IllegalArgumentException("layer " + fromLayer + " out of range 0.." + config.numLayers());
    }
    o.hooks.validate(config);
    return run(hidden, fromLayer, o);
  }

  private Output run(NDArray h, int fromLayer, Options o) {
    int t = (int) h.getShape().get(1);
    int past = o.cache == null ? 0 : o.cache.length();
    NDArray[] rope = ropeAt(o.positions, past, t); // cos, sin: [B|1, 1, T, E]
    NDArray mask = attentionMask(h.getManager(), o, past, t); // [B|1, 1, 1, T, S]
    int last = o.stopAfter >= 0 ? o.stopAfter : config.numLayers() - 1;
    for (int l = fromLayer; l <= last; l++) {
      // full passes and prefills free each layer's intermediates; one-token decode steps have none worth a scope
      h = o.cache == null || t > 1 ? layerScoped(l, h, rope, mask, o) : layer(l, h, rope, mask, o);
    }
    if (o.cache != null) o.cache.advance(t);
    if (o.stopAfter >= 0) return new Output(h, null);
    NDArray x = finalNorm(o.lastOnly ? h.get(":, -1:, :") : h);
    return new Output(h, linear(x, headWeight(), null)); // [B, T, V]
  }

  /**
   * One decoder layer of a full forward in its own sub-manager, so its intermediates (the [B, K, G, T, S] scores,
   * the [B, T, I] MLP activations) are freed when the layer ends instead of when the caller's scope closes. Without
   * this, memory grows with layers x T^2: a 2048-token forward of a 28-layer 1.5B model held ~23 GB of dead
   * intermediates and was killed. Under a {@code GradientCollector} nothing is lost: the autograd graph keeps its
   * own references to what backward needs. An activation at a hook point with a hook is moved to the caller's manager
   * before the hook runs, so whatever the hook keeps (the activation, or arrays it derives from it) stays valid.
   */
  private NDArray layerScoped(int l, NDArray h, NDArray[] rope, NDArray mask, Options o) {
    NDManager parent = h.getManager();
    try (NDManager scope = parent.newSubManager()) {
      h.tempAttach(scope); // derived arrays land in scope; h itself returns to parent when scope closes
      NDArray out = layer(l, h, rope, mask, o, parent);
      if (out.getManager() == scope) out.attach(parent); // a hook may return an array someone else owns: leave it there
      return out;
    }
  }

  private NDArray layer(int l, NDArray h, NDArray[] rope, NDArray mask, Options o) {
    return layer(l, h, rope, mask, o, null);
  }

  private NDArray layer(int l, NDArray h, NDArray[] rope, NDArray mask, Options o, NDManager keepIn) {
    String p = "model.layers." + l + ".";
    NDArray a = attention(l, rmsNorm(h, w(p + "input_layernorm.weight")), rope, mask, o.cache);
    a = hook(o, "layers." + l + ".attn", a, keepIn);
    h = h.add(a);
    NDArray m = mlp(p + "mlp.", rmsNorm(h, w(p + "post_attention_layernorm.weight")));
    m = hook(o, "layers." + l + ".mlp", m, keepIn);
    h = h.add(m);
    return hook(o, "layers." + l, h, keepIn);
  }

  /**
   * Runs the hooks at {@code point}. With {@code keepIn} (a layer running in its own scope), an activation that has a
   * hook first moves to {@code keepIn}, so the hook's reads and replacements are derived outside the layer's scope.
   */
  private static NDArray hook(Options o, String point, NDArray x, NDManager keepIn) {
    if (keepIn != null && o.hooks.has(point)) x.attach(keepIn);
    return o.hooks.apply(point, x);
  }

  /** The final RMSNorm on the residual stream [.., D] (what the LM head reads). */
  public NDArray finalNorm(NDArray hidden) {
    return rmsNorm(hidden, w("model.norm.weight"));
  }

  /** The LM head [V, D] (the embedding matrix when tied): logits = finalNorm(h) · head^T. */
  public NDArray headWeight() {
    return config.tieEmbeddings() ? w("model.embed_tokens.weight") : w("lm_head.weight");
  }

  NDArray embed(NDArray tokens) {
    NDArray table = w("model.embed_tokens.weight");
    return table.getNDArrayInternal().embedding(tokens, table, ai.djl.ndarray.types.SparseFormat.DENSE).singletonOrThrow(); // [B, T, D]
  }

  /** RMSNorm: x / sqrt(mean(x^2) + eps) * g, over the last axis. */
  NDArray rmsNorm(NDArray x, NDArray g) {
    NDArray rms = x.square().mean(new int[] {-1}, true).add(config.rmsEps()).sqrt(); // [B, T, 1]
    return x.div(rms).mul(g);
  }

  private NDArray attention(int l, NDArray x, NDArray[] rope, NDArray mask, KvCache cache) {
    String p = "model.layers." + l + ".self_attn.";
    long b = x.getShape().get(0), t = x.getShape().get(1);
    int heads = config.numHeads(), kvHeads = config.numKvHeads(), e = config.headDim();
    NDArray q = proj(p + "q_proj", x).reshape(b, t, heads, e).transpose(0, 2, 1, 3); // [B, H, T, E]
    NDArray k = proj(p + "k_proj", x).reshape(b, t, kvHeads, e).transpose(0, 2, 1, 3); // [B, K, T, E]
    NDArray v = proj(p + "v_proj", x).reshape(b, t, kvHeads, e).transpose(0, 2, 1, 3); // [B, K, T, E]
    q = applyRope(q, rope).mul(Scalars.of(q, 1 / Math.sqrt(e))); // scaling q costs T*E, scaling the scores T*S
    k = applyRope(k, rope);
    if (cache != null) {
      NDArray[] kv = cache.append(l, k, v);
      k = kv[0]; // [B, K, S, E]
      v = kv[1];
    }
    long s = k.getShape().get(2);
    NDArray qg = q.reshape(b, kvHeads, config.groupSize(), t, e); // [B, K, G, T, E]
    NDArray kg = k.expandDims(2); // [B, K, 1, S, E]
    NDArray vg = v.expandDims(2); // [B, K, 1, S, E]
    NDArray scores = qg.matMul(kg.swapAxes(-1, -2)); // [B, K, G, T, S]
    if (mask != null) scores = scores.add(mask);
    NDArray out = scores.softmax(-1).matMul(vg); // [B, K, G, T, E]
    out = out.reshape(b, heads, t, e).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * e); // [B, T, H*E]
    return proj(p + "o_proj", out); // [B, T, D]
  }

  /** SwiGLU: down(silu(gate(x)) * up(x)). */
  private NDArray mlp(String p, NDArray x) {
    NDArray gate = proj(p + "gate_proj", x); // [B, T, I]
    NDArray up = proj(p + "up_proj", x); // [B, T, I]
    NDArray silu = gate.mul(gate.getNDArrayInternal().sigmoid()); // not Activation.silu: keeps dtype for fp64 checks
    return proj(p + "down_proj", silu.mul(up)); // [B, T, D]
  }

  /** A linear projection by HF module path, plus the adapter's delta when one is active. */
  private NDArray proj(String module, NDArray x) {
    String bias = module + ".bias";
    NDArray y = linear(x, w(module + ".weight"), weights.contains(bias) ? w(bias) : null);
    if (adapter != null && adapterEnabled) {
      NDArray delta = adapter.delta(module, x);
      if (delta != null) y = y.add(delta);
    }
    return y;
  }

  static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
    return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow(); // x W^T + b
  }

  NDArray[] ropeAt(NDArray positions, int past, int t) {
    if (past + t > config.maxPositions()) {
      throw new IllegalArgumentException("sequence of " + (past + t) + " tokens exceeds max positions " + config.maxPositions());
    }
    if (positions == null) {
      NDIndex rows = new NDIndex("{}:{}", past, past + t);
      long e = ropeCos.getShape().get(1);
      return new NDArray[] {ropeCos.get(rows).reshape(1, 1, t, e), ropeSin.get(rows).reshape(1, 1, t, e)};
    }
    NDArray cos = ropeCos.get(positions).expandDims(1); // [B, 1, T, E]
    NDArray sin = ropeSin.get(positions).expandDims(1);
    return new NDArray[] {cos, sin};
  }

  /**
   * Rotates [B, heads, T, E] by the position angles: each coordinate pair (a, b) becomes
   * (a cos - b sin, b cos + a sin), written as {@code x * cos + partner(x) * sin} with the sign folded into the
   * sin table. Pairs are (i, i + E/2) for HF checkpoints and (2i, 2i + 1) for llama2.c ones.
   */
  NDArray applyRope(NDArray x, NDArray[] rope) {
    Shape s = x.getShape();
    long half = s.get(3) / 2;
    NDArray partner; // [B, h, T, E]: each coordinate's pair partner
    if (config.rope() == ModelConfig.Rope.HALF) {
      partner = NDArrays.concat(new NDList(x.get("..., {}:", half), x.get("..., :{}", half)), -1);
    } else {
      partner = x.reshape(s.get(0), s.get(1), s.get(2), half, 2).flip(-1).reshape(s);
    }
    return x.mul(rope[0]).add(partner.mul(rope[1]));
  }

  /** Additive mask [B|1, 1, 1, T, S]: -inf above the causal diagonal, {@link #PAD_SCORE} on padded keys. */
  private NDArray attentionMask(NDManager m, Options o, int past, int t) {
    int s = past + t;
    NDArray mask = null;
    if (t > 1) {
      NDArray keyPos = m.arange(s).reshape(1, s); // [1, S]
      NDArray queryPos = m.arange(past, s).reshape(t, 1); // [T, 1]
      NDArray future = keyPos.gt(queryPos); // [T, S]
      NDArray zeros = m.zeros(new Shape(t, s), ropeCos.getDataType());
      NDArray neg = m.full(new Shape(t, s), Float.NEGATIVE_INFINITY, ropeCos.getDataType());
      mask = NDArrays.where(future, neg, zeros).reshape(1, 1, 1, t, s);
    }
    NDArray pad = null;
    if (o.cache != null) {
      pad = o.cache.padMask(s, m, 5);
    } else if (o.padMask != null) {
      NDArray valid = o.padMask.toType(DataType.BOOLEAN, false); // [B, S]
      Shape vs = valid.getShape();
      NDArray zeros = m.zeros(vs, ropeCos.getDataType());
      NDArray neg = m.full(vs, PAD_SCORE, ropeCos.getDataType());
      pad = NDArrays.where(valid, zeros, neg).reshape(vs.get(0), 1, 1, 1, s);
    }
    if (pad == null) return mask;
    return mask == null ? pad : mask.add(pad);
  }

  private NDArray w(String name) {
    return weights.get(name);
  }

  @Override
  public void close() {
    weights.close();
  }
}
