package dev.resa.miniature;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./resa miniature}: the paper in miniature, end to end, cached under {@code runs/}. */
@Command(name = "miniature", mixinStandardHelpOptions = true,
    description = {"Trains base, source (GRPO), SAEs, SAE-tuned and SFT models of a tiny Qwen2 on multi-step arithmetic,",
        "evaluates them on held-out problems and writes runs/<preset>-s<seed>/report.md, CSVs and HTML plots.",
        "Stages already in the run directory are reused; --fresh starts over."})
public final class MiniatureCommand implements Callable<Integer> {
  @Option(names = "--preset", defaultValue = "default", description = "default (<= 10 min on 2 cores), ci (<= 3 min) or long (the feasibility study's 1400 base steps). Default: ${DEFAULT-VALUE}")
  String preset;

  @Mixin RunRoot runs;

  @Option(names = "--seed", defaultValue = "0", description = "seed of models, data order and training. Default: ${DEFAULT-VALUE}")
  long seed;

  @Override
  public Integer call() throws Exception {
    Miniature.Result r = Miniature.run(Preset.named(preset), runs.out, runs.fresh, seed);
    System.out.println(r.report());
    return 0;
  }

  /** Where run directories are kept, and whether this run starts over. */
  static final class RunRoot {
    @Option(names = "--out", defaultValue = "runs", description = "root of run directories. Default: ${DEFAULT-VALUE}")
    Path out;

    @Option(names = "--fresh", description = "delete the run directory first and retrain every stage")
    boolean fresh;
  }
}
