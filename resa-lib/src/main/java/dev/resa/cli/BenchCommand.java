package dev.resa.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code ./resa bench NAME}: speed and memory measurements, kept out of the unit tests. Each benchmark is a
 * sub-subcommand registered in {@link Main#commandLine()} next to {@code bench lm} ({@code bench sae},
 * {@code bench tune}, {@code bench eval}, ...), one line each.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "NAME",
    description = "Benchmarks (speed, memory), each compared with a reference where one exists.")
public final class BenchCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
