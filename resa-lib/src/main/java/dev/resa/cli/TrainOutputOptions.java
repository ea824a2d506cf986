package dev.resa.cli;

import dev.resa.tuning.LoraTrainer;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where {@code tune}, {@code sft} and {@code grpo} write: the output folder, checkpoint cadence, and resuming. */
final class TrainOutputOptions {
  @Option(names = "--out", required = true, description = "Output folder.")
  Path out;

  @Option(names = "--save-every", defaultValue = "500", description = "Steps between adapter checkpoints (default: ${DEFAULT-VALUE}).")
  int saveEvery;

  @Option(names = "--resume", description = "Continue from the newest checkpoint-N in --out (same data and settings).")
  boolean resume;

  /** {@code train} writing to {@code --out} (checkpoints named after {@code base}), resuming when asked. */
  LoraTrainer.Config apply(LoraTrainer.Config train, Path base) {
    return train.withOutput(out, saveEvery, base.toString()).withResume(resume);
  }
}
