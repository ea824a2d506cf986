package dev.resa.miniature;

import ai.djl.ndarray.NDManager;
import dev.resa.eval.PairedBootstrap;
import dev.resa.eval.PairedBootstrap.Interval;
import dev.resa.miniature.Miniature.Model;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Beyond the paper: how much the SAE's bottleneck (its width m and its k) disturbs base and what SAE-Tuning with it
 * recovers. One axis at a time from the preset's values (widths at the preset's k, then k at the preset's width), each
 * point is {@link Search#train}'s Stage I from scratch on the source and Stage II of base, so its stages are the
 * search's width and k candidates where the two coincide. It describes, it does not choose, so it scores on the test
 * problems: held-out FVU, KL at Stage II's start and end, Pass@1 and the recovered share of the RL gain, each with its
 * 95 % paired-bootstrap interval against the run's own base and source.
 */
final class DoseResponse {
  private DoseResponse() {}

  /** One point: which axis it varies, its width and k, Stage I / II diagnostics and test scores. */
  record Row(Search.Axis axis, int width, int k, double fvuBase, double fvuSource, double startKl, double finalKl, Interval pass1, Interval recovered) {}

  static Table run(Preset p, Path runDir, long seed, List<Integer> widths, List<Integer> ks, NDManager root) throws IOException {
    if (widths.isEmpty() && ks.isEmpty()) throw new IllegalArgumentException("no widths and no k given");
    double[][] base = {ProblemScores.read(Stages.problemsFile(runDir.resolve("eval").resolve(Model.BASE.dir()))).pass1()}; // [1 seed][problem]
    double[][] source = {ProblemScores.read(Stages.problemsFile(runDir.resolve("eval").resolve(Model.SOURCE.dir()))).pass1()};
    String baseKey = RunCache.keyOf(runDir.resolve(Model.BASE.dir()));
    List<Row> rows = new ArrayList<>();
    for (int w : widths) rows.add(point(Search.Axis.WIDTH, p.toBuilder().saeLatents(w).build(), runDir, seed, baseKey, base, source, root));
    for (int k : ks) rows.add(point(Search.Axis.K, p.toBuilder().saeK(k).build(), runDir, seed, baseKey, base, source, root));
    return table(rows);
  }

  private static Row point(Search.Axis axis, Preset c, Path runDir, long seed, String baseKey, double[][] base, double[][] source, NDManager root)
      throws IOException {
    Search.Trained t = Search.train(c, runDir, seed, baseKey, root);
    t.stages().evaluate(t.tuned(), t.tuned().resolve("eval"), "dose-response " + runDir.relativize(t.tuned()));
    double[][] tuned = {ProblemScores.read(Stages.problemsFile(t.tuned().resolve("eval"))).pass1()};
    Map<String, Double> sae = RunCache.read(t.sae()), st = RunCache.read(t.tuned());
    return new Row(axis, c.saeLatents(), c.saeK(), sae.get("fvu_heldout_base"), sae.get("fvu_heldout_source"), st.get("start_kl"), st.get("final_kl"),
        PairedBootstrap.mean(tuned, Intervals.BOOTSTRAP), PairedBootstrap.recovered(base, source, tuned, Intervals.BOOTSTRAP).interval());
  }

  /**
   * The table: axis, width, k, fvu_base, fvu_source, start_kl, final_kl, pass1 with pass1_lo / pass1_hi, recovered
   * (share of source - base) with recovered_lo / recovered_hi.
   */
  static Table table(List<Row> rows) {
    Table t = Table.create("dose-response: SAE width and k", StringColumn.create("axis", rows.stream().map(r -> r.axis().name().toLowerCase(Locale.ROOT)).toList()),
        IntColumn.create("width", rows.stream().mapToInt(Row::width).toArray()), IntColumn.create("k", rows.stream().mapToInt(Row::k).toArray()));
    t.addColumns(col("fvu_base", rows, Row::fvuBase), col("fvu_source", rows, Row::fvuSource), col("start_kl", rows, Row::startKl),
        col("final_kl", rows, Row::finalKl), col("pass1", rows, r -> r.pass1().estimate()), col("pass1_lo", rows, r -> r.pass1().lo()),
        col("pass1_hi", rows, r -> r.pass1().hi()), col("recovered", rows, r -> r.recovered().estimate()),
        col("recovered_lo", rows, r -> r.recovered().lo()), col("recovered_hi", rows, r -> r.recovered().hi()));
    return t;
  }

  private static DoubleColumn col(String name, List<Row> rows, java.util.function.ToDoubleFunction<Row> f) {
    return DoubleColumn.create(name, rows.stream().mapToDouble(f).toArray());
  }
}
