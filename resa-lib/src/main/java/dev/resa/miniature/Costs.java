package dev.resa.miniature;

import dev.resa.model.ModelConfig;

/**
 * FLOP estimates for the cost table (Figure 1's analog), from token counts logged by each stage and
 * {@link ModelConfig#forwardFlopsPerToken}. Conventions: a training token costs 3 forwards (forward + backward
 * with weight and input gradients), a no-grad token 1, a sampled token 1 (KV cache). Estimates, not measurements.
 */
final class Costs {
  private Costs() {}

  /** Typical context length of the task's texts, at which attention FLOPs are counted. */
  static final int CONTEXT = 48;

  /** Full forward + backward over {@code tokens}. */
  static double train(ModelConfig c, double tokens) {
    return tokens * 3 * c.forwardFlopsPerToken(CONTEXT);
  }

  /** Sampling (1 forward per generated token) + reference pass (1) + policy pass with backward (3). */
  static double grpo(ModelConfig c, double generated, double tokens) {
    double f = c.forwardFlopsPerToken(CONTEXT);
    return generated * f + tokens * 4 * f;
  }

  /** Capturing activations: the layers up to and including {@code layer}, no grad. */
  static double capture(ModelConfig c, long rows, int layer) {
    double perLayer = (c.forwardFlopsPerToken(CONTEXT) - 2.0 * c.hiddenSize() * c.vocabSize()) / c.numLayers();
    return rows * perLayer * (layer + 1);
  }

  /** Dense TopK SAE: encoder and decoder matmuls (4 d m per row) with backward (x3). */
  static double sae(int d, int m, long rows) {
    return 12.0 * d * m * rows;
  }

  /** Stage II: one no-grad pass for prefix + teacher suffix, plus the student suffix forward + backward (x3). */
  static double saeTune(ModelConfig c, double tokens, int layer) {
    double f = c.forwardFlopsPerToken(CONTEXT);
    double suffixShare = (double) (c.numLayers() - layer - 1) / c.numLayers();
    return tokens * f * (1 + 3 * suffixShare);
  }
}
