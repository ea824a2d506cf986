package dev.resa.miniature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resa.task.ArithmeticTask;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Stage-II sweep's grid, pick rule and validation problems (no training). */
class TuneSweepTest {
  @Test
  void gridQuartersHalvesKeepsAndDoublesThePresetsValues() {
    TuneSweep.Grid g = TuneSweep.Grid.around(Preset.ci()); // ci: lr 5e-4, 40 steps, 60 test problems
    assertEquals(List.of(1.25e-4, 2.5e-4, 5e-4, 1e-3), g.lrs());
    assertEquals(List.of(10, 20, 40, 80), g.steps());
    assertEquals(60, g.problems(), "min(100, test problems)");
  }

  @Test
  void pickTakesTheBestValidationScoreAndBreaksTiesTowardsLessTraining() {
    TuneSweep.Grid g = new TuneSweep.Grid(List.of(1e-3, 5e-4), List.of(10, 20), 50);
    List<TuneSweep.Point> pts = List.of(
        new TuneSweep.Point(1e-3, 10, 0.40, 0, 0), new TuneSweep.Point(1e-3, 20, 0.52, 0, 0),
        new TuneSweep.Point(5e-4, 20, 0.52, 0, 0), new TuneSweep.Point(5e-4, 10, 0.30, 0, 0));
    TuneSweep.Pick p = TuneSweep.pick(g, pts);
    assertEquals(5e-4, p.lr(), 0, "0.52 twice: the smaller lr wins");
    assertEquals(20, p.steps());
    List<TuneSweep.Point> sameLr = List.of(new TuneSweep.Point(1e-3, 20, 0.5, 0, 0), new TuneSweep.Point(1e-3, 10, 0.5, 0, 0));
    assertEquals(10, TuneSweep.pick(g, sameLr).steps(), "same lr and score: fewer steps win");
    assertTrue(p.atEdge() && p.describe().contains("on the grid's edge"), "5e-4 is the grid's smallest lr");
    TuneSweep.Grid three = new TuneSweep.Grid(List.of(1e-4, 2e-4, 4e-4), List.of(10, 20, 40), 50);
    TuneSweep.Pick inner = TuneSweep.pick(three, List.of(new TuneSweep.Point(2e-4, 20, 0.6, 0, 0), new TuneSweep.Point(1e-4, 10, 0.5, 0, 0)));
    assertTrue(!inner.atEdge() && !inner.describe().contains("edge"), "the middle of both axes is inside the grid");
    Preset applied = p.apply(Preset.ci());
    assertEquals(5e-4, applied.tuneLr(), 0);
    assertEquals(20, applied.tuneSteps());
    String row = Departures.markdown(applied, p);
    assertTrue(row.contains("toy scale, chosen on validation") && row.contains("Stage-II lr 0.0005 and 20 steps picked on 50 validation problems"), row);
  }

  @Test
  void validationProblemsAreDisjointFromTestAndTraining(@TempDir Path dir) {
    Stages s = new Stages(Preset.ci(), dir, 3, null);
    List<ArithmeticTask.Problem> val = s.validation(100);
    assertEquals(100, val.size());
    Set<String> seen = new HashSet<>();
    for (ArithmeticTask.Problem q : Stages.testSet(Preset.ci())) seen.add(q.expression());
    for (ArithmeticTask.Problem q : s.trainPool()) seen.add(q.expression());
    for (ArithmeticTask.Problem q : val) assertTrue(!seen.contains(q.expression()), "validation problem " + q.expression() + " is also a test or pool problem");
  }
}
