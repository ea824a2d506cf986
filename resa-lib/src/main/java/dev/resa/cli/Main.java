package dev.resa.cli;

import dev.resa.core.Djl;
import dev.resa.miniature.MiniatureCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./resa} command line: one subcommand per stage of the pipeline, each with {@code --help}. */
@Command(
    name = "resa",
    mixinStandardHelpOptions = true,
    version = "resa 0.1.0",
    description = "SAE-Tuning (Resa) on DJL: train SAEs, tune models with them, evaluate, and run the miniature.",
    synopsisSubcommandLabel = "COMMAND")
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** The command tree; every subcommand is registered here, grouped by pipeline stage. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    // model
    cl.addSubcommand(new GenerateCommand());
    cl.addSubcommand(new TrainLmCommand());
    // activations / sae
    cl.addSubcommand(new TrainSaeCommand());
    cl.addSubcommand(new SaeMetricsCommand());
    // tuning
    cl.addSubcommand(new TuneCommand());
    cl.addSubcommand(new SftCommand());
    cl.addSubcommand(new GrpoCommand());
    cl.addSubcommand(new MergeCommand());
    // eval
    cl.addSubcommand(new EvalCommand());
    cl.addSubcommand(new GradeCommand());
    // miniature, kernel, bench
    cl.addSubcommand(new MiniatureCommand());
    cl.addSubcommand(new KernelCommand());
    cl.addSubcommand(new CommandLine(new BenchCommand())
        .addSubcommand(new BenchLmCommand())
        .addSubcommand(new BenchSaeCommand())
        .addSubcommand(new BenchTuneCommand())
        .addSubcommand(new BenchEvalCommand())
        .addSubcommand(new BenchKernelCommand())
        .addSubcommand(new dev.resa.bench.BenchScaleCommand())); // one line per benchmark
    cl.setUsageHelpAutoWidth(true);
    return cl;
  }

  public static void main(String[] args) {
    Djl.init();
    int code = commandLine().execute(args);
    System.exit(code);
  }
}
