package dev.resa.eval;

/**
 * Settings of one evaluation run.
 *
 * @param samples completions per problem (default 1, as in the paper: Pass@1 from one sample at T = 0.6).
 * @param maxNewTokens generation budget per completion (paper 32768; tiny models need far fewer).
 * @param temperature sampling temperature (default 0.6, spec §5).
 * @param topP nucleus mass kept (default 0.95, spec §5).
 * @param seed base seed of sampling and of the GPQA option order (default 0: reproducible).
 * @param batchSize prompts generated together (default 8: amortises the forward pass without large padding waste).
 * @param limit evaluate only the first N problems of each benchmark (default 0 = all; for smoke runs).
 * @param template prompt template (default {@link Prompts#LIGHTEVAL}, what Resa's numbers used).
 */
public record EvalConfig(int samples, int maxNewTokens, double temperature, double topP, long seed, int batchSize, int limit,
    Prompts template) {
  public EvalConfig {
    if (samples < 1) throw new IllegalArgumentException("samples must be >= 1, got " + samples);
    if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be >= 1, got " + maxNewTokens);
    if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
    if (limit < 0) throw new IllegalArgumentException("limit must be >= 0, got " + limit);
  }

  /** The paper's settings with a given budget. */
  public static EvalConfig paper(int maxNewTokens) {
    return new EvalConfig(1, maxNewTokens, 0.6, 0.95, 0, 8, 0, Prompts.LIGHTEVAL);
  }

  /** Sampling temperature (0 = greedy) and nucleus mass. */
  public EvalConfig withSampling(double t, double p) {
    return new EvalConfig(samples, maxNewTokens, t, p, seed, batchSize, limit, template);
  }

  public EvalConfig withSeed(long s) {
    return new EvalConfig(samples, maxNewTokens, temperature, topP, s, batchSize, limit, template);
  }

  public EvalConfig withSamples(int n) {
    return new EvalConfig(n, maxNewTokens, temperature, topP, seed, batchSize, limit, template);
  }

  public EvalConfig withTemplate(Prompts t) {
    return new EvalConfig(samples, maxNewTokens, temperature, topP, seed, batchSize, limit, t);
  }

  public EvalConfig withLimit(int n) {
    return new EvalConfig(samples, maxNewTokens, temperature, topP, seed, batchSize, n, template);
  }

  public EvalConfig withBatchSize(int n) {
    return new EvalConfig(samples, maxNewTokens, temperature, topP, seed, n, limit, template);
  }
}
