package dev.resa.tuning;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.resa.model.Adapter;
import dev.resa.model.DecoderLM;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import dev.resa.core.Scalars;

/**
 * LoRA (Hu et al. 2021) as PEFT implements it: each target projection {@code y = W x + b} becomes
 *
 * <pre>
 *   y = W x + b + (alpha / r) · B A dropout(x)      A [r, in] kaiming-uniform, B [out, r] zero
 * </pre>
 *
 * so a fresh adapter leaves the model unchanged. The base weights are never copied: the decoder asks
 * {@link #delta} for each projection, {@link DecoderLM#disableAdapter()} switches the adapter off (the teacher of
 * Stage II), and {@link #merge} folds {@code (alpha / r) B A} into the base weights for export.
 *
 * <p>Adapters are saved in PEFT's format ({@link PeftFormat}), so they load in Python with
 * {@code PeftModel.from_pretrained} and can be attached to any base of the same shape (Resa's Table 5).
 */
public final class Lora implements Adapter, AutoCloseable {
  /** A and B of one projection. */
  public record Pair(NDArray a, NDArray b) {}

  private final LoraConfig config;
  private final NDManager manager;
  private final Map<String, Pair> modules; // HF module path -> (A, B), in model order
  private boolean training;
  private Weights mergedInto;

  Lora(LoraConfig config, NDManager manager, Map<String, Pair> modules) {
    this.config = config;
    this.manager = manager;
    this.modules = modules;
  }

  /**
   * A fresh adapter for a model of shape {@code model}: A kaiming-uniform (PEFT's {@code a = sqrt(5)}, i.e.
   * U(-1/sqrt(in), 1/sqrt(in))) from a Java RNG seeded per module, B zero. Parameters are trainable leaves.
   */
  public static Lora create(LoraConfig config, ModelConfig model, NDManager parent, DataType dtype) {
    NDManager m = parent.newSubManager();
    Map<String, Pair> modules = new LinkedHashMap<>();
    for (int l = 0; l < model.numLayers(); l++) {
      if (config.layers() != null && !config.layers().contains(l)) continue;
      for (String t : config.targets()) {
        String module = LoraConfig.modulePath(l, t);
        Shape w = Weights.expectedShape(model, module + ".weight"); // [out, in]
        int out = (int) w.get(0), in = (int) w.get(1);
        Random rng = new Random(config.seed() * 0x9E3779B97F4A7C15L ^ module.hashCode());
        double bound = 1.0 / Math.sqrt(in);
        double[] a = new double[config.r() * in];
        for (int i = 0; i < a.length; i++) a[i] = (2 * rng.nextDouble() - 1) * bound;
        NDArray aArr = m.create(a, new Shape(config.r(), in)).toType(dtype, false); // [r, in]
        NDArray bArr = m.zeros(new Shape(out, config.r()), dtype); // [out, r]
        modules.put(module, new Pair(aArr, bArr));
      }
    }
    if (config.layers() != null) {
      for (int l : config.layers()) {
        if (l < 0 || l >= model.numLayers()) {
          m.close();
          throw new IllegalArgumentException("LoRA layer " + l + " out of range 0.." + (model.numLayers() - 1));
        }
      }
    }
    Lora lora = new Lora(config, m, modules);
    lora.setTrainable(true);
    return lora;
  }

  public LoraConfig config() {
    return config;
  }

  /** Module path to (A, B), in model order. */
  public Map<String, Pair> modules() {
    return java.util.Collections.unmodifiableMap(modules);
  }

  public NDManager manager() {
    return manager;
  }

  /** Training mode turns dropout on; evaluation (the default) is deterministic. */
  public Lora train(boolean on) {
    this.training = on;
    return this;
  }

  public boolean isTraining() {
    return training;
  }

  public void setTrainable(boolean on) {
    for (Pair p : modules.values()) {
      p.a().setRequiresGradient(on);
      p.b().setRequiresGradient(on);
    }
  }

  @Override
  public NDArray delta(String module, NDArray x) {
    Pair p = modules.get(module);
    if (p == null || mergedInto != null) return null;
    NDArray in = x;
    if (training && config.dropout() > 0) {
      NDArray keep = x.getManager().randomUniform(0f, 1f, x.getShape()).gte(config.dropout()); // [..., in]
      in = x.mul(keep.toType(x.getDataType(), false)).mul(Scalars.of(x, 1 / (1 - config.dropout())));
    }
    NDArray down = in.getNDArrayInternal().linear(in, p.a(), null).singletonOrThrow(); // [..., r]
    NDArray up = down.getNDArrayInternal().linear(down, p.b(), null).singletonOrThrow(); // [..., out]
    return up.mul(Scalars.of(up, config.scale()));
  }

  /** A then B for every module, in model order (the optimizer's parameter list). */
  @Override
  public List<NDArray> parameters() {
    List<NDArray> out = new ArrayList<>(2 * modules.size());
    for (Pair p : modules.values()) {
      out.add(p.a());
      out.add(p.b());
    }
    return out;
  }

  public long parameterCount() {
    long n = 0;
    for (NDArray p : parameters()) n += p.size();
    return n;
  }

  /**
   * Throws unless every module exists in {@code model} with the shapes this adapter needs (A [r, in], B [out, r]).
   * This is what lets an adapter trained on one base move to another base of the same shape.
   */
  public void checkFits(ModelConfig model, String source) {
    for (var e : modules.entrySet()) {
      String module = e.getKey();
      int layer = PeftFormat.layerOf(module);
      if (layer < 0 || layer >= model.numLayers()) {
        throw new IllegalArgumentException(source + ": adapter module '" + module + "' is in layer " + layer
            + " but the base model has layers 0.." + (model.numLayers() - 1));
      }
      Shape w = Weights.expectedShape(model, module + ".weight"); // [out, in]
      Shape a = e.getValue().a().getShape(), b = e.getValue().b().getShape();
      Shape wantA = new Shape(config.r(), w.get(1)), wantB = new Shape(w.get(0), config.r());
      if (!a.equals(wantA) || !b.equals(wantB)) {
        throw new IllegalArgumentException(source + ": adapter module '" + module + "' has lora_A " + a + " and lora_B " + b
            + " but the base weight is " + w + " (needs lora_A " + wantA + ", lora_B " + wantB + ")");
      }
    }
  }

  /** Checks the shapes, then installs this adapter on {@code model}. */
  public Lora attachTo(DecoderLM model) {
    checkFits(model.config(), "LoRA adapter");
    model.setAdapter(this);
    return this;
  }

  /**
   * Folds the adapter into the base: {@code W += (alpha / r) B A} for each module. While merged, {@link #delta}
   * returns nothing, so the model computes the same function with or without the adapter installed.
   */
  public void merge(Weights base) {
    if (mergedInto != null) throw new IllegalStateException("adapter is already merged");
    apply(base, +1);
    mergedInto = base;
  }

  /** Undoes {@link #merge}: {@code W -= (alpha / r) B A} (exact up to float rounding). */
  public void unmerge() {
    if (mergedInto == null) throw new IllegalStateException("adapter is not merged");
    apply(mergedInto, -1);
    mergedInto = null;
  }

  public boolean isMerged() {
    return mergedInto != null;
  }

  private void apply(Weights base, double sign) {
    for (var e : modules.entrySet()) {
      NDArray w = base.get(e.getKey() + ".weight"); // [out, in]
      Pair p = e.getValue();
      try (NDManager scope = manager.newSubManager()) {
        p.a().tempAttach(scope);
        p.b().tempAttach(scope);
        NDArray update = p.b().matMul(p.a()).mul(sign * config.scale()); // [out, in]
        w.addi(update.toType(w.getDataType(), false));
      }
    }
  }

  /** Writes {@code adapter_config.json} and {@code adapter_model.safetensors} (PEFT layout) into {@code dir}. */
  public void save(java.nio.file.Path dir, String baseModelName) throws IOException {
    PeftFormat.save(this, dir, baseModelName);
  }

  /** Reads a PEFT LoRA adapter and checks that it fits {@code model}. */
  public static Lora load(java.nio.file.Path dir, ModelConfig model, NDManager parent) throws IOException {
    return PeftFormat.load(dir, model, parent);
  }

  @Override
  public void close() {
    manager.close();
  }
}
