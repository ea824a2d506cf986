package dev.resa.miniature;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.LongStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./resa miniature}: the paper in miniature, end to end, cached under {@code runs/}. */
@Command(name = "miniature", mixinStandardHelpOptions = true, description = {
    "The paper in miniature: base, RL source, SAEs, SAE-tuned and SFT models of a tiny Qwen2, trained and scored.",
    "Trains on multi-step arithmetic, evaluates on held-out problems and writes runs/<preset>-s<seed>/report.md, CSVs and "
        + "HTML plots; with --seeds N, one run per seed and a pooled report with 95 %% paired-bootstrap intervals. Stages "
        + "already in the run directory are reused; --fresh starts over."})
public final class MiniatureCommand implements Callable<Integer> {
  @Option(names = "--preset", defaultValue = "default", description = "default (<= 10 min on 2 cores), ci (<= 3 min) or long (the feasibility study's 1400 base steps). Default: ${DEFAULT-VALUE}")
  String preset;

  @Mixin RunRoot runs;

  @Option(names = "--seed", defaultValue = "0", description = "seed of models, data order and training (the first seed with --seeds). Default: ${DEFAULT-VALUE}")
  long seed;

  @Option(names = "--seeds", defaultValue = "1", description = "number of seeds: runs seeds seed..seed+N-1, each its own run, "
      + "then writes a pooled report with paired-bootstrap intervals to runs/<preset>-seeds<first>-<last>/. Default: ${DEFAULT-VALUE}")
  int seeds;

  @Option(names = "--sweep", description = "first pick Stage II's lr and steps (and the SFT baselines', which match them) on "
      + "validation problems: the preset's lr and steps each halved, kept and doubled; writes tune-sweep.csv and names the pick in the report")
  boolean sweep;

  @Option(names = "--search", description = "first pick the SAE's width, k, hook layer and source step on validation problems, one "
      + "axis at a time from the preset's values, then Stage II's lr and steps as --sweep does (implies --sweep); writes search.csv and "
      + "search-pick.json and names the pick in the report")
  boolean search;

  @Override
  public Integer call() throws Exception {
    if (seeds < 1) throw new IllegalArgumentException("--seeds must be at least 1, got " + seeds);
    Preset p = Preset.named(preset);
    TuneSweep.Grid grid = sweep ? TuneSweep.Grid.around(p) : null;
    Search.Space space = search ? Search.Space.around(p) : null;
    List<Long> all = LongStream.range(seed, seed + seeds).boxed().toList();
    if (seeds == 1) {
      System.out.println((space != null ? Miniature.run(p, runs.out, runs.fresh, seed, space) : Miniature.run(p, runs.out, runs.fresh, seed, grid)).report());
    } else {
      System.out.println((space != null ? Miniature.runSeeds(p, runs.out, runs.fresh, all, space) : Miniature.runSeeds(p, runs.out, runs.fresh, all, grid)).report());
    }
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
