package dev.resa.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;

/**
 * A model's parameters by their Hugging Face names ({@code model.layers.3.self_attn.q_proj.weight}), all owned
 * by one {@link NDManager}. Names follow HF so that loading, saving and PEFT adapters are straight copies.
 */
public final class Weights implements AutoCloseable {
  private final NDManager manager;
  private final Map<String, NDArray> tensors = new LinkedHashMap<>();

  public Weights(NDManager manager) {
    this.manager = manager;
  }

  public NDManager manager() {
    return manager;
  }

  /** Adds (or replaces) a tensor, moving it into this manager. */
  public Weights put(String name, NDArray array) {
    array.attach(manager);
    array.setName(name);
    NDArray old = tensors.put(name, array);
    if (old != null && old != array) old.close();
    return this;
  }

  public NDArray get(String name) {
    NDArray a = tensors.get(name);
    if (a == null) throw new IllegalArgumentException("no weight named '" + name + "'");
    return a;
  }

  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  /** All tensors in insertion (HF) order; the map is read-only. */
  public Map<String, NDArray> asMap() {
    return Collections.unmodifiableMap(tensors);
  }

  /** Marks the tensors whose names match as trainable (leaves that collect gradients); the rest frozen. */
  public List<NDArray> setTrainable(Predicate<String> which) {
    List<NDArray> out = new ArrayList<>();
    for (var e : tensors.entrySet()) {
      boolean train = which.test(e.getKey());
      e.getValue().setRequiresGradient(train);
      if (train) out.add(e.getValue());
    }
    return out;
  }

  /**
   * A per-step scope: a sub-manager to which every weight is temporarily attached, so arrays derived from the
   * weights (activations, gradient wrappers) are freed when the scope closes while the weights survive. This
   * is the pattern that keeps native memory flat over long loops.
   */
  public NDManager stepScope() {
    NDManager step = manager.newSubManager();
    for (NDArray a : tensors.values()) a.tempAttach(step);
    return step;
  }

  public long parameterCount() {
    long n = 0;
    for (NDArray a : tensors.values()) n += a.size();
    return n;
  }

  /** The HF tensor names of a config, in the order HF writes them. */
  public static List<String> names(ModelConfig c) {
    List<String> n = new ArrayList<>();
    n.add("model.embed_tokens.weight");
    for (int l = 0; l < c.numLayers(); l++) {
      String p = "model.layers." + l + ".";
      n.add(p + "input_layernorm.weight");
      for (String proj : List.of("q_proj", "k_proj", "v_proj")) {
        n.add(p + "self_attn." + proj + ".weight");
        if (c.qkvBias()) n.add(p + "self_attn." + proj + ".bias");
      }
      n.add(p + "self_attn.o_proj.weight");
      n.add(p + "post_attention_layernorm.weight");
      n.add(p + "mlp.gate_proj.weight");
      n.add(p + "mlp.up_proj.weight");
      n.add(p + "mlp.down_proj.weight");
    }
    n.add("model.norm.weight");
    if (!c.tieEmbeddings()) n.add("lm_head.weight");
    return n;
  }

  /** The expected shape of a named tensor under {@code c}, used to validate checkpoints. */
  public static Shape expectedShape(ModelConfig c, String name) {
    long d = c.hiddenSize(), q = (long) c.numHeads() * c.headDim(), kv = (long) c.numKvHeads() * c.headDim();
    long i = c.intermediateSize(), v = c.vocabSize();
    if (name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight")) return new Shape(v, d);
    if (name.endsWith("layernorm.weight") || name.equals("model.norm.weight")) return new Shape(d);
    if (name.endsWith("q_proj.weight")) return new Shape(q, d);
    if (name.endsWith("q_proj.bias")) return new Shape(q);
    if (name.endsWith("k_proj.weight") || name.endsWith("v_proj.weight")) return new Shape(kv, d);
    if (name.endsWith("k_proj.bias") || name.endsWith("v_proj.bias")) return new Shape(kv);
    if (name.endsWith("o_proj.weight")) return new Shape(d, q);
    if (name.endsWith("gate_proj.weight") || name.endsWith("up_proj.weight")) return new Shape(i, d);
    if (name.endsWith("down_proj.weight")) return new Shape(d, i);
    throw new IllegalArgumentException("unexpected weight name '" + name + "'");
  }

  /**
   * Random initialisation in the GPT-2 / HF style: normal(0, 0.02) matrices, ones for norms, zero biases.
   * Seeded in Java, so the same seed gives the same model on any device.
   */
  public static Weights random(ModelConfig c, NDManager manager, long seed, DataType dtype) {
    Weights w = new Weights(manager);
    Random rng = new Random(seed);
    for (String name : names(c)) {
      Shape s = expectedShape(c, name);
      int n = Math.toIntExact(s.size());
      NDArray a;
      if (name.endsWith("norm.weight")) {
        a = manager.ones(s, DataType.FLOAT32);
      } else if (name.endsWith(".bias")) {
        float[] b = new float[n];
        for (int k = 0; k < n; k++) b[k] = (float) (0.02 * rng.nextGaussian()); // non-zero so tests see the bias
        a = manager.create(b, s);
      } else {
        float[] m = new float[n];
        double std = name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight")
            ? 0.02 / Math.sqrt(2.0 * c.numLayers()) // scaled residual projections (GPT-2)
            : 0.02;
        for (int k = 0; k < n; k++) m[k] = (float) (std * rng.nextGaussian());
        a = manager.create(m, s);
      }
      w.put(name, dtype == DataType.FLOAT32 ? a : a.toType(dtype, false));
    }
    return w;
  }

  /** Copies every tensor into a fresh manager (e.g. to keep a frozen reference while training). */
  public Weights copy(NDManager target) {
    Weights w = new Weights(target);
    for (var e : tensors.entrySet()) w.put(e.getKey(), e.getValue().duplicate());
    return w;
  }

  @Override
  public void close() {
    manager.close();
  }
}
