package dev.resa.cli;

import dev.resa.bench.BenchCommand;
import dev.resa.core.Djl;
import dev.resa.miniature.MiniatureCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code ./resa} command line: one subcommand per stage of the pipeline, each with {@code --help}. Commands only
 * parse options and call the library; every failure is reported by {@link CliErrors} (one line, {@code --verbose}
 * for the stack trace).
 */
@Command(
    name = "resa",
    mixinStandardHelpOptions = true,
    version = "resa 0.1.0",
    description = "SAE-Tuning (Resa) on DJL: train SAEs, tune models with them, evaluate, and run the miniature.",
    synopsisSubcommandLabel = "COMMAND")
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = CliErrors.VERBOSE, scope = ScopeType.INHERIT,
      description = "On an error, print the Java stack trace too (errors are one line without it).")
  boolean verbose;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The command tree; every subcommand is registered here, grouped by pipeline stage. DJL is set up first. */
  public static CommandLine commandLine() {
    Djl.init();
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
    // miniature, kernel, bench (the benchmarks are listed in BenchCommand)
    cl.addSubcommand(new MiniatureCommand());
    cl.addSubcommand(new KernelCommand());
    cl.addSubcommand(new BenchCommand());
    CliErrors errors = new CliErrors();
    cl.setExecutionExceptionHandler(errors);
    cl.setParameterExceptionHandler(errors);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setUsageHelpAutoWidth(true);
    return cl;
  }

  public static void main(String[] args) {
    int code = commandLine().execute(args);
    System.exit(code);
  }
}
