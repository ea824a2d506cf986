package dev.resa.cli;

import dev.resa.model.Generator;
import java.util.Set;
import picocli.CommandLine.Option;

/** How {@code eval} and {@code generate} sample a completion; each command picks the token budget's default. */
final class SamplingOptions {
  @Option(names = "--max-new-tokens", paramLabel = "N", description = "Most tokens to generate per completion (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.6", description = "0 = greedy; Resa evaluates at 0.6 (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "Nucleus mass kept when sampling (default: ${DEFAULT-VALUE}).")
  double topP;

  /** {@code --max-new-tokens} defaulting to {@code maxNewTokens}. */
  SamplingOptions(int maxNewTokens) {
    this.maxNewTokens = maxNewTokens;
  }

  /** These settings for {@link Generator}, stopping at {@code stop} tokens, seeded with {@code seed}. */
  Generator.Sampling generator(Set<Integer> stop, long seed) {
    return new Generator.Sampling(maxNewTokens, temperature, topP, stop, seed);
  }
}
