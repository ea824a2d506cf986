package dev.resa.model;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Named activation hooks for one forward pass, in the spirit of TransformerLens hook points and sparsify's
 * forward hooks. Names follow HF module paths without the {@code model.} prefix:
 *
 * <ul>
 *   <li>{@code embed}: token embeddings, the input of layer 0;
 *   <li>{@code layers.N}: the output of decoder layer N, i.e. the residual stream (Resa hooks {@code model.layers.N});
 *   <li>{@code layers.N.attn}: the attention block's output before it is added to the residual;
 *   <li>{@code layers.N.mlp}: the MLP block's output before it is added to the residual.
 * </ul>
 *
 * A hook either reads an activation or replaces it. Replacement carries an explicit {@code detach} flag: with
 * {@code detach = true} the replacement is cut from the autograd graph, which is exactly Resa's no-grad SAE
 * splice (nothing upstream of the splice receives gradient).
 */
public final class Hooks {
  /** One hook's action on the activation flowing through a point. */
  @FunctionalInterface
  public interface Hook {
    NDArray apply(NDArray activation);
  }

  public static final Hooks NONE = new Hooks(Map.of());

  private final Map<String, Hook> hooks;

  private Hooks(Map<String, Hook> hooks) {
    this.hooks = hooks;
  }

  public static Hooks create() {
    return new Hooks(new LinkedHashMap<>());
  }

  /** Calls {@code reader} with the activation at {@code point}; the forward continues unchanged. */
  public Hooks read(String point, Consumer<NDArray> reader) {
    return add(point, x -> {
      reader.accept(x);
      return x;
    });
  }

  /**
   * Replaces the activation at {@code point} with {@code fn(activation)}. With {@code detach} the function sees a
   * detached input and its result is detached too, so no gradient flows through the replacement.
   */
  public Hooks replace(String point, UnaryOperator<NDArray> fn, boolean detach) {
    return add(point, detach ? x -> fn.apply(x.stopGradient()).stopGradient() : fn::apply);
  }

  private Hooks add(String point, Hook hook) {
    String name = canonical(point);
    Hook previous = hooks.get(name);
    hooks.put(name, previous == null ? hook : x -> hook.apply(previous.apply(x)));
    return this;
  }

  /** Runs the hooks registered at {@code point} (the activation itself when none). */
  NDArray apply(String point, NDArray activation) {
    Hook h = hooks.get(point);
    return h == null ? activation : h.apply(activation);
  }

  /** Whether a hook is registered at {@code point} (canonical spelling). */
  boolean has(String point) {
    return hooks.containsKey(point);
  }

  boolean isEmpty() {
    return hooks.isEmpty();
  }

  Iterable<String> points() {
    return hooks.keySet();
  }

  /** Accepts Resa/HF spellings ({@code model.layers.12}) as well as ours ({@code layers.12}). */
  public static String canonical(String point) {
    String p = point.trim();
    if (p.startsWith("model.")) p = p.substring("model.".length());
    if (p.equals("embed_tokens")) p = "embed";
    if (p.endsWith(".self_attn")) p = p.substring(0, p.length() - ".self_attn".length()) + ".attn";
    return p;
  }

  /** The layer index a point belongs to ({@code embed} is -1). Throws with the valid names when unknown. */
  public static int layerOf(String point, ModelConfig config) {
    String p = canonical(point);
    if (p.equals("embed")) return -1;
    String[] parts = p.split("\\.");
    if (parts.length >= 2 && parts[0].equals("layers")
        && (parts.length == 2 || (parts.length == 3 && (parts[2].equals("attn") || parts[2].equals("mlp"))))) {
      try {
        int l = Integer.parseInt(parts[1]);
        if (l >= 0 && l < config.numLayers()) return l;
      } catch (NumberFormatException ignored) {
        // fall through to the error
      }
    }
    throw new IllegalArgumentException("hook point '" + point + "' does not exist; this model has embed, layers.0 .. layers."
        + (config.numLayers() - 1) + " and layers.N.attn / layers.N.mlp");
  }

  /** Checks every registered point exists in {@code config}. */
  void validate(ModelConfig config) {
    for (String p : hooks.keySet()) layerOf(p, config);
  }
}
