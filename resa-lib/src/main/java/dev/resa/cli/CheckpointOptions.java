package dev.resa.cli;

import dev.resa.tuning.LoraTrainer;
import picocli.CommandLine.Option;

/** The checkpoint options of {@code tune}, {@code sft} and {@code grpo} (the one LoRA loop's). */
final class CheckpointOptions {
  @Option(names = "--save-every", defaultValue = "500", description = "Steps between adapter checkpoints (default: ${DEFAULT-VALUE}).")
  int saveEvery;

  @Option(names = "--resume", description = "Continue from the newest checkpoint-N in --out (same data and settings).")
  boolean resume;

  /** {@code loop} writing checkpoints, the adapter and the log into {@code out}. */
  LoraTrainer.Config apply(LoraTrainer.Config loop, java.nio.file.Path out, String baseName) {
    return loop.withOutput(out, saveEvery, baseName).withResume(resume);
  }
}
