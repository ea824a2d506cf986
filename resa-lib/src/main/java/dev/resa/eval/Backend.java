package dev.resa.eval;

import java.util.List;

/**
 * Whatever turns prompt strings into completion strings: a real model ({@link LmBackend}) or a stand-in for tests
 * (an oracle that answers with the reference solution, a model that always says "0").
 */
public interface Backend {
  /** One completion and the number of tokens generated for it. */
  record Completion(String text, int tokens) {}

  /**
   * Sampling settings of one call.
   *
   * @param maxNewTokens most tokens generated per prompt.
   * @param temperature 0 = greedy; Resa evaluates at 0.6.
   * @param topP nucleus mass kept; Resa uses 0.95.
   * @param seed seed of this call (row r of a batch uses it mixed with r).
   */
  record Sampling(int maxNewTokens, double temperature, double topP, long seed) {}

  /** Completions for {@code prompts}, in order. */
  List<Completion> complete(List<String> prompts, Sampling sampling);

  /** A short description for result files ("llama2c stories260K", "oracle"). */
  String name();
}
