package dev.resa.miniature;

import dev.resa.task.ArithmeticTask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

/**
 * Stage II's learning rate and step count at toy scale, chosen on validation problems (never the test set): for each
 * learning rate of a small grid, SAE-Tuning of base with the from-scratch SAE on source (Resa's route) runs to the
 * grid's largest step count and is scored on the validation problems at each step count of the grid. The schedule is
 * constant, so the score at step s is the score of an s-step run. The pick is the point with the highest validation
 * Pass@1 (ties: the smaller learning rate, then fewer steps). Saved as {@code tune-sweep.csv}; the main run then tunes
 * every Stage-II route and both SFT baselines with the pick.
 */
public final class TuneSweep {
  private TuneSweep() {}

  /**
   * The grid.
   *
   * @param lrs Stage-II learning rates tried (default: the preset's x 0.25, 0.5, 1, 2; the x 0.25 was added because the
   *     x 0.5, 1, 2 grid's validation pick sat on its low edge, in lr or steps, in 3 of the first 5 searched seeds).
   * @param steps step counts scored (default: the preset's x 0.25, 0.5, 1, 2, for the same reason; scoring one more step
   *     count costs a validation pass, not a run).
   * @param problems validation problems (default: min(100, the test set's size); 2-3 x fewer than the test set keeps the sweep
   *     cheaper than the runs it chooses between).
   */
  public record Grid(List<Double> lrs, List<Integer> steps, int problems) {
    public Grid {
      lrs = List.copyOf(new TreeSet<>(lrs));
      steps = List.copyOf(new TreeSet<>(steps));
      if (lrs.isEmpty() || steps.isEmpty() || lrs.get(0) <= 0 || steps.get(0) <= 0 || problems <= 0) {
        throw new IllegalArgumentException("need positive learning rates, step counts and problems: " + lrs + ", " + steps + ", " + problems);
      }
    }

    /** The preset's own Stage-II lr and steps, each quartered, halved, kept and doubled. */
    public static Grid around(Preset p) {
      int n = p.tuneSteps();
      return new Grid(List.of(p.tuneLr() / 4, p.tuneLr() / 2, p.tuneLr(), p.tuneLr() * 2), List.of(Math.max(1, n / 4), Math.max(1, n / 2), n, n * 2),
          Math.min(100, p.testProblems()));
    }
  }

  /** One grid point's validation scores. */
  public record Point(double lr, int steps, double pass1, double greedy, double think) {}

  /** The chosen point and the sweep behind it. */
  public record Pick(double lr, int steps, double pass1, Grid grid, List<Point> points) {
    /** The preset with Stage II's (and SFT's) lr and steps replaced by the pick. */
    public Preset apply(Preset p) {
      return p.toBuilder().tuneLr(lr).tuneSteps(steps).build();
    }

    /** True when the pick sits on the grid's border in lr or steps, so the best value may lie outside the grid. */
    public boolean atEdge() {
      List<Double> l = grid.lrs();
      List<Integer> st = grid.steps();
      return l.size() > 1 && (lr == l.get(0) || lr == l.get(l.size() - 1)) || st.size() > 1 && (steps == st.get(0) || steps == st.get(st.size() - 1));
    }

    /** One line for the report: what was picked, from what, on which problems, and whether the pick is on the grid's edge. */
    public String describe() {
      return String.format(Locale.ROOT, "Stage-II lr %s and %d steps picked on %d validation problems (train split, disjoint from the test "
          + "problems and from the seed's training pool) from lr %s x steps %s: validation Pass@1 %.3f (`tune-sweep.csv`)%s.",
          Departures.g(lr), steps, grid.problems(), grid.lrs().stream().map(Departures::g).toList(), grid.steps(), pass1,
          atEdge() ? "; the pick is on the grid's edge, so a wider grid may do better" : "");
    }
  }

  /**
   * Runs (or loads from {@code <run>/sweep/}) the sweep of run {@code s} with the SAE in {@code saeDir} (spliced at
   * {@code p}'s hook layer; the run's {@code sae/scratch} without a {@link Search}) and copies it to {@code <run>/tune-sweep.csv}.
   */
  static Pick run(Stages s, Preset p, Path runDir, long seed, Grid grid, String baseKey, Path saeDir, String saeKey) throws IOException {
    Path d = runDir.resolve("sweep");
    String key = RunCache.key("sweep", baseKey, saeKey, grid, p.tuneBatch(), p.loraRank(), p.loraAlpha(), Stages.LORA_DROPOUT, p.hookLayer(),
        p.samples(), p.maxNewTokens(), seed);
    Path csv = d.resolve("tune-sweep.csv");
    if (!(RunCache.done(d, key) && Files.isRegularFile(csv))) {
      System.out.println("== Stage II sweep on validation problems: lr " + grid.lrs().stream().map(Departures::g).toList() + " x steps " + grid.steps());
      long t0 = System.nanoTime();
      List<ArithmeticTask.Problem> val = s.validation(grid.problems());
      List<Point> points = new ArrayList<>();
      int last = grid.steps().get(grid.steps().size() - 1);
      Files.createDirectories(d);
      for (double lr : grid.lrs()) {
        Table log = s.tuneWatched(saeDir, lr, last, (step, model) -> {
          if (!grid.steps().contains(step)) return;
          Scoring.Score sc = Scoring.score(model, p, "sweep lr " + lr + " step " + step, val).score();
          points.add(new Point(lr, step, sc.pass1(), sc.greedy(), sc.thinkRate()));
        });
        Report.csv(log, d.resolve("train-lr" + Departures.g(lr) + ".csv")); // the Stage-II log of this lr, for checking against tuned/resa
      }
      Report.csv(table(points), csv);
      RunCache.finish(d, key, Table.create("none"), t0, Map.of("points", (double) points.size()));
    }
    Files.copy(csv, runDir.resolve("tune-sweep.csv"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Pick pick = pick(grid, read(csv));
    dev.resa.io.AtomicFiles.writeString(runDir.resolve(PICK), RunCache.GSON.toJson(pick));
    return pick;
  }

  /** Where a run made with a sweep records its pick. */
  static final String PICK = "tune-sweep-pick.json";

  /** The pick of a run made with a sweep, or null for a run made without one. */
  static Pick load(Path runDir) throws IOException {
    Path f = runDir.resolve(PICK);
    return Files.isRegularFile(f) ? RunCache.GSON.fromJson(Files.readString(f), Pick.class) : null;
  }

  /** The highest validation Pass@1; ties go to the smaller lr, then to fewer steps. */
  static Pick pick(Grid grid, List<Point> points) {
    Point best = null;
    for (Point x : points) {
      if (best == null || x.pass1() > best.pass1() || x.pass1() == best.pass1() && (x.lr() < best.lr() || x.lr() == best.lr() && x.steps() < best.steps())) {
        best = x;
      }
    }
    if (best == null) throw new IllegalStateException("the sweep scored no grid point");
    return new Pick(best.lr(), best.steps(), best.pass1(), grid, List.copyOf(points));
  }

  static Table table(List<Point> points) {
    return Table.create("tune-sweep", DoubleColumn.create("lr", points.stream().mapToDouble(Point::lr).toArray()),
        IntColumn.create("steps", points.stream().mapToInt(Point::steps).toArray()),
        DoubleColumn.create("val_pass1", points.stream().mapToDouble(Point::pass1).toArray()),
        DoubleColumn.create("val_greedy", points.stream().mapToDouble(Point::greedy).toArray()),
        DoubleColumn.create("val_think", points.stream().mapToDouble(Point::think).toArray()));
  }

  static List<Point> read(Path csv) throws IOException {
    Table t = Table.read().csv(csv.toString());
    List<Point> out = new ArrayList<>();
    for (int i = 0; i < t.rowCount(); i++) {
      out.add(new Point(t.numberColumn("lr").getDouble(i), (int) t.numberColumn("steps").getDouble(i), t.numberColumn("val_pass1").getDouble(i),
          t.numberColumn("val_greedy").getDouble(i), t.numberColumn("val_think").getDouble(i)));
    }
    return out;
  }

  /** Removes a stale {@code tune-sweep.csv} copy and pick from a run made without a sweep (the cached sweep itself stays). */
  static void clear(Path runDir) throws IOException {
    Files.deleteIfExists(runDir.resolve("tune-sweep.csv"));
    Files.deleteIfExists(runDir.resolve(PICK));
  }

}
