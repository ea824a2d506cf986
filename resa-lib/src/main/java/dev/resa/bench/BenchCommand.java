package dev.resa.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code ./resa bench NAME}: speed and memory measurements, kept out of the unit tests. Each benchmark is a
 * sub-subcommand listed below, one line each; those with a PyTorch counterpart run it through {@link TorchReference}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "NAME",
    description = "Benchmarks (speed, memory), each compared with a reference where one exists.",
    subcommands = {
        BenchLmCommand.class,
        BenchSaeCommand.class,
        BenchTuneCommand.class,
        BenchEvalCommand.class,
        BenchKernelCommand.class,
        BenchScaleCommand.class,
    })
public final class BenchCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
