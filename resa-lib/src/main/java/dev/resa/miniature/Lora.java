package dev.resa.miniature;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.resa.core.Scalars;
import dev.resa.model.Adapter;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The miniature's own minimal LoRA (PEFT semantics: {@code y += (alpha/r) B A x}, A kaiming-uniform, B zero),
 * on all seven projections of layers {@code fromLayer..}. A stand-in until {@code dev.resa.tuning.Lora} lands.
 */
final class Lora implements Adapter {
  static final List<String> MODULES = List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
      "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj");

  private final Map<String, NDArray[]> ab = new LinkedHashMap<>(); // module -> {A [r, in], B [out, r]}
  private final double scale;

  Lora(ModelConfig c, Weights w, NDManager m, int fromLayer, int rank, double alpha, long seed) {
    this.scale = alpha / rank;
    Random rng = new Random(seed);
    for (int l = fromLayer; l < c.numLayers(); l++) {
      for (String mod : MODULES) {
        String module = "model.layers." + l + "." + mod;
        Shape ws = w.get(module + ".weight").getShape(); // [out, in]
        int out = (int) ws.get(0), in = (int) ws.get(1);
        float[] a = new float[rank * in];
        double bound = 1 / Math.sqrt(in); // kaiming_uniform(a=sqrt(5)) as PEFT
        for (int i = 0; i < a.length; i++) a[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        NDArray aa = m.create(a, new Shape(rank, in));
        NDArray bb = m.zeros(new Shape(out, rank));
        aa.setRequiresGradient(true);
        bb.setRequiresGradient(true);
        ab.put(module, new NDArray[] {aa, bb});
      }
    }
  }

  @Override
  public NDArray delta(String module, NDArray x) {
    NDArray[] p = ab.get(module);
    if (p == null) return null;
    NDArray h = x.getNDArrayInternal().linear(x, p[0], null).singletonOrThrow(); // [..., r]
    return h.getNDArrayInternal().linear(h, p[1], null).singletonOrThrow().mul(Scalars.of(h, scale)); // [..., out]
  }

  @Override
  public List<NDArray> parameters() {
    List<NDArray> out = new ArrayList<>();
    for (NDArray[] p : ab.values()) {
      out.add(p[0]);
      out.add(p[1]);
    }
    return out;
  }

  /** Adds {@code scale * B A} to every adapted weight (PEFT's merge_and_unload). */
  void mergeInto(Weights w) {
    for (var e : ab.entrySet()) {
      NDArray weight = w.get(e.getKey() + ".weight");
      NDArray delta = e.getValue()[1].stopGradient().matMul(e.getValue()[0].stopGradient()).mul(scale); // [out, in]
      NDArray merged = weight.add(delta);
      merged.setRequiresGradient(false);
      w.put(e.getKey() + ".weight", merged);
      delta.close();
    }
  }
}
