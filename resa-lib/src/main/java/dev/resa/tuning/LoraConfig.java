package dev.resa.tuning;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shape of a LoRA adapter: which projections get {@code W + (alpha / r) B A}, and how big A and B are.
 *
 * @param r rank of A [r, in] and B [out, r]; default 32 (Resa's recipe).
 * @param alpha scale numerator; the update is multiplied by {@code alpha / r}; default 128, so 4 (Resa).
 * @param dropout dropout on the adapter's input in training mode only; default 0.05 (Resa, PEFT convention).
 * @param targets short projection names among {@link #ALL_TARGETS}; default all seven (Resa's code, not the paper).
 * @param layers decoder layers that get adapters, or null for all; Stage II's prefix shortcut uses ℓ+1.. only.
 * @param seed seeds A's kaiming-uniform init per module, so a module's A does not depend on which others exist.
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targets, Set<Integer> layers, long seed) {
  /** PEFT's names for the seven Qwen2 / Llama projections, in model order. */
  public static final List<String> ALL_TARGETS = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

  private static final Map<String, String> BLOCK = Map.of(
      "q_proj", "self_attn", "k_proj", "self_attn", "v_proj", "self_attn", "o_proj", "self_attn",
      "gate_proj", "mlp", "up_proj", "mlp", "down_proj", "mlp");

  public LoraConfig {
    if (r <= 0) throw new IllegalArgumentException("LoRA rank r must be positive, got " + r);
    if (!(alpha > 0)) throw new IllegalArgumentException("LoRA alpha must be positive, got " + alpha);
    if (dropout < 0 || dropout >= 1) throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
    if (targets == null || targets.isEmpty()) throw new IllegalArgumentException("LoRA needs at least one target module");
    for (String t : targets) {
      if (!ALL_TARGETS.contains(t)) {
        throw new IllegalArgumentException("unknown LoRA target module '" + t + "'; known: " + ALL_TARGETS);
      }
    }
    targets = List.copyOf(new LinkedHashSet<>(targets));
    layers = layers == null ? null : Set.copyOf(layers);
  }

  /** Resa's Stage II adapter: r 32, alpha 128, dropout 0.05 on all seven projections of every layer. */
  public static LoraConfig resa() {
    return new LoraConfig(32, 128, 0.05, ALL_TARGETS, null, 42);
  }

  public double scale() {
    return alpha / r;
  }

  public LoraConfig withLayers(Set<Integer> only) {
    return new LoraConfig(r, alpha, dropout, targets, only, seed);
  }

  public LoraConfig withDropout(double p) {
    return new LoraConfig(r, alpha, p, targets, layers, seed);
  }

  public LoraConfig withSeed(long s) {
    return new LoraConfig(r, alpha, dropout, targets, layers, s);
  }

  /** Layers {@code from..numLayers-1}, the suffix after a splice at {@code from - 1}. */
  public static Set<Integer> layersFrom(int from, int numLayers) {
    Set<Integer> s = new LinkedHashSet<>();
    for (int l = from; l < numLayers; l++) s.add(l);
    return s;
  }

  /** The HF module path of target {@code t} in layer {@code l}, e.g. {@code model.layers.3.self_attn.q_proj}. */
  public static String modulePath(int l, String t) {
    return "model.layers." + l + "." + BLOCK.get(t) + "." + t;
  }
}
