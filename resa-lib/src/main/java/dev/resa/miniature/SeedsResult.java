package dev.resa.miniature;

import java.nio.file.Path;
import java.util.List;
import tech.tablesaw.api.Table;

/**
 * Several seeds of the miniature and their pooled statistics ({@link Miniature#runSeeds}).
 *
 * @param dir the pooled folder ({@code report.md}, {@code intervals.csv}, {@code problems.csv}).
 * @param runs each seed's run, in seed order.
 * @param intervals every interval, typed; {@link Intervals#table()} is the same as a table.
 * @param report the pooled {@code report.md}.
 */
public record SeedsResult(Path dir, List<RunResult> runs, Intervals intervals, String report) {
  /** The pooled table: statistic, name, seed (or {@code pooled}), estimate, lo, hi, undefined replicates. */
  public Table pooled() {
    return intervals.table();
  }

  /** The pooled verdict (markdown), read from the intervals as the report's "Verdict" section is. */
  public String verdict() {
    return Verdict.of(intervals);
  }
}
