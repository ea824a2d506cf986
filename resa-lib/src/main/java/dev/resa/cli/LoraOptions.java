package dev.resa.cli;

import dev.resa.tuning.LoraConfig;
import picocli.CommandLine.Option;

/** The LoRA options of {@code tune}, {@code sft} and {@code grpo}; dropout 0.05 on every projection, as Resa. */
final class LoraOptions {
  @Option(names = "--rank", defaultValue = "32", description = "LoRA rank (default: ${DEFAULT-VALUE}).")
  int rank;

  @Option(names = "--alpha", defaultValue = "128", description = "LoRA alpha (default: ${DEFAULT-VALUE}).")
  double alpha;

  /** The adapter these options describe, its A matrices initialised from {@code seed}. */
  LoraConfig config(long seed) {
    return new LoraConfig(rank, alpha, 0.05, LoraConfig.ALL_TARGETS, null, seed);
  }
}
