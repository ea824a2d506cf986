package dev.resa.miniature;

import dev.resa.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The pooled report of several seeds of one preset: each seed is its own finished run (its own base, source, SAEs and
 * tuned models, under {@code <preset>-s<seed>/}); this writes {@code <preset>-seeds<first>-<last>/} with
 * {@code report.md}, {@code intervals.csv} (every statistic per seed and pooled) and {@code problems.csv} (Pass@1 per
 * seed, route and problem: the data behind every interval).
 */
final class SeedPool {
  private SeedPool() {}

  /** {@code <out>/<preset>-seeds0-2} for contiguous seeds, else {@code <preset>-seeds0_3_7}. */
  static Path dir(Path outRoot, Preset p, List<Long> seeds) {
    boolean contiguous = true;
    for (int i = 1; i < seeds.size(); i++) contiguous &= seeds.get(i) == seeds.get(i - 1) + 1;
    String name = contiguous ? seeds.get(0) + "-" + seeds.get(seeds.size() - 1) : seeds.stream().map(String::valueOf).collect(Collectors.joining("_"));
    return outRoot.resolve(p.name() + "-seeds" + name);
  }

  /** Computes the pooled intervals of finished runs {@code runDirs} (one per seed, in {@code seeds} order) and writes the pooled folder. */
  static Intervals write(Path poolDir, Preset p, List<Long> seeds, List<Path> runDirs) throws IOException {
    Map<Miniature.Route, double[][]> scores = Intervals.load(runDirs);
    Intervals iv = Intervals.compute(seeds, scores, Intervals.BOOTSTRAP);
    Files.createDirectories(poolDir);
    Report.csv(iv.table(), poolDir.resolve("intervals.csv"));
    Report.csv(problems(seeds, runDirs, scores), poolDir.resolve("problems.csv"));
    AtomicFiles.writeString(poolDir.resolve("report.md"), markdown(poolDir, p, iv, runDirs));
    return iv;
  }

  /** Long table: seed, model, problem id, Pass@1 (share of that problem's samples that were right). */
  private static Table problems(List<Long> seeds, List<Path> runDirs, Map<Miniature.Route, double[][]> scores) throws IOException {
    List<String> ids = ProblemScores.read(Stages.problemsFile(runDirs.get(0).resolve("eval").resolve("base"))).ids();
    StringColumn seed = StringColumn.create("seed"), model = StringColumn.create("model"), problem = StringColumn.create("problem");
    DoubleColumn pass1 = DoubleColumn.create("pass1");
    for (int s = 0; s < seeds.size(); s++) {
      for (var e : scores.entrySet()) {
        for (int i = 0; i < ids.size(); i++) {
          seed.append(Long.toString(seeds.get(s)));
          model.append(e.getKey().name());
          problem.append(ids.get(i));
          pass1.append(e.getValue()[s][i]);
        }
      }
    }
    return Table.create("problems", seed, model, problem, pass1);
  }

  /** The pooled {@code report.md}: verdict from the pooled intervals, the interval tables, departures, links to each seed. */
  static String markdown(Path poolDir, Preset p, Intervals iv, List<Path> runDirs) {
    StringBuilder md = new StringBuilder();
    md.append("# Resa in miniature: ").append(iv.seeds().size()).append(" seeds of preset `").append(p.name()).append("`\n\n");
    md.append(String.format(Locale.ROOT, "Seeds %s, each its own run (base, source, SAEs, tuned models): %s. Every model of every seed is "
        + "scored on the same %d held-out problems x %d samples at T=0.6, so differences are paired by problem.%n%n", iv.seeds(),
        runDirs.stream().map(d -> "[`" + d.getFileName() + "`](" + poolDir.relativize(d).resolve("report.md") + ")").collect(Collectors.joining(", ")),
        iv.problems(), p.samples()));
    md.append("## Verdict (pooled)\n\n").append(Verdict.of(iv)).append('\n');
    md.append("## Intervals per seed and pooled\n\n").append(iv.markdown()).append('\n');
    TuneSweep.Pick first = null;
    Search.Pick firstSearch = null;
    StringBuilder picks = new StringBuilder();
    for (int i = 0; i < runDirs.size(); i++) {
      TuneSweep.Pick pick;
      Search.Pick search;
      try {
        pick = TuneSweep.load(runDirs.get(i));
        search = Search.load(runDirs.get(i));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      if (pick == null) continue;
      if (first == null) {
        first = pick;
        firstSearch = search;
      }
      picks.append("- seed ").append(iv.seeds().get(i)).append(": ").append(search != null ? search.describe() : pick.describe()).append('\n');
    }
    Preset shown = firstSearch != null ? firstSearch.apply(p) : first == null ? p : first.apply(p);
    md.append("## Departures from the paper's recipe\n\n").append(Departures.markdown(shown, first, firstSearch)).append('\n');
    if (first != null) md.append("Each seed chose its own ").append(firstSearch != null ? "SAE setup and " : "").append("Stage-II lr and steps on "
        + "validation problems, never the test problems (the table shows the first seed's):\n\n").append(picks).append('\n');
    md.append("Data: `problems.csv` (Pass@1 per seed, model and problem), `intervals.csv` (every statistic above).\n");
    return md.toString();
  }
}
