package dev.resa.miniature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resa.task.ArithmeticTask;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** The validation search: its space, pick rule and preset, then a tiny run with a search and a dose-response sharing its stages. */
class SearchTest {
  @TempDir Path out;

  /** A hand-written candidate of the ci preset's setup with {@code a} set to {@code value}; one second of stages. */
  private static Search.Candidate at(Search.Axis a, int value, double pass1) {
    Preset c = a.with(Preset.ci(), value);
    return new Search.Candidate(a, value, c.saeLatents(), c.saeK(), c.hookLayer(), c.saeSourceStep(), pass1, 0, 0, 0, 0, 1);
  }

  @Test
  void defaultSpaceOfTheCiPreset() {
    Search.Space s = Search.Space.around(Preset.ci()); // ci: 128 latents, k 4, 4 layers, 8 GRPO rounds
    assertEquals(List.of(64, 128, 256), s.widths());
    assertEquals(List.of(2, 4, 8), s.ks());
    assertEquals(List.of(0, 1, 2), s.layers(), "the last layer has no layer after it for Stage II");
    assertEquals(List.of(0, 2, 4, 6, 8), s.sourceSteps());
    assertEquals(List.of(2, 3, 4, 8), s.values(Search.Axis.K, 3), "the current value is tried as well");
    assertEquals(List.of(2, 4, 8), s.values(Search.Axis.K, 4));
    assertThrows(IllegalArgumentException.class, () -> new Search.Space(List.of(), List.of(4), List.of(2), List.of(8), s.tune()));
  }

  @Test
  void pickTakesTheBestValidationScoreThenTheCurrentValueThenTheSmallerValue() {
    Search.Axis w = Search.Axis.WIDTH;
    assertEquals(256, Search.best(List.of(at(w, 64, 0.3), at(w, 128, 0.4), at(w, 256, 0.5)), 128), "the best score wins, even at the edge");
    assertEquals(128, Search.best(List.of(at(w, 64, 0.5), at(w, 128, 0.5), at(w, 256, 0.5)), 128), "a tie keeps the current value");
    assertEquals(64, Search.best(List.of(at(w, 64, 0.5), at(w, 128, 0.2), at(w, 256, 0.5)), 128), "a tie without it: the smaller value");
    assertEquals(32, Search.best(List.of(at(w, 32, 0.1)), 32), "one candidate");
    assertThrows(IllegalStateException.class, () -> Search.best(List.of(), 1));
  }

  @Test
  void applySetsTheSaeSetupAndStageTwoAndKeepsTheRest() {
    Preset p = Preset.ci();
    TuneSweep.Pick tune = new TuneSweep.Pick(2.5e-4, 80, 0.4, TuneSweep.Grid.around(p), List.of());
    Search.Pick pick = new Search.Pick(64, 8, 1, 4, 60, tune, 5, List.of(at(Search.Axis.LAYER, 1, 0.4), at(Search.Axis.LAYER, 2, 0.3)));
    Preset q = pick.apply(p);
    assertEquals(64, q.saeLatents());
    assertEquals(8, q.saeK());
    assertEquals(1, q.hookLayer());
    assertEquals(4, q.saeSourceStep());
    assertEquals(2.5e-4, q.tuneLr(), 0);
    assertEquals(80, q.tuneSteps());
    assertEquals(p.toBuilder().saeLatents(64).saeK(8).hookLayer(1).saeSourceStep(4).tuneLr(2.5e-4).tuneSteps(80).build(), q);
    assertEquals(8, p.saeSourceStep(), "default: the finished source");
    assertEquals(24, Preset.defaults().saeSourceStep());
    assertEquals(4, q.toBuilder().rlSteps(10).build().saeSourceStep(), "a chosen step stays when rlSteps changes");
    assertEquals(10, p.toBuilder().rlSteps(10).build().saeSourceStep(), "the finished source follows rlSteps");
    assertEquals(2, pick.setups(), "layers 1 and 2");
    assertEquals(1 + 1 + 5, pick.seconds(), 1e-9, "each setup once, plus the Stage-II sweep");
    String md = Departures.markdown(q, tune, pick);
    assertTrue(md.contains("| hook layer |") && md.contains("picked on 60 validation problems from layers [1, 2]"), md);
    assertTrue(md.contains("| SAE's source |") && md.contains("the source after 4 of 8 GRPO rounds"), md);
  }

  @Test
  void aPresetJsonWrittenBeforeTheSourceStepReadsAsTheFinishedSource() throws Exception {
    com.google.gson.JsonObject o = RunCache.GSON.toJsonTree(Preset.ci()).getAsJsonObject();
    o.remove("saeSourceStep");
    Files.writeString(out.resolve("preset.json"), o.toString());
    assertEquals(8, Preset.ofRun(out).saeSourceStep(), "ci's 8 GRPO rounds");
    Files.writeString(out.resolve("preset.json"), RunCache.GSON.toJson(Preset.ci().toBuilder().saeSourceStep(2).build()));
    assertEquals(2, Preset.ofRun(out).saeSourceStep());
    assertThrows(IllegalArgumentException.class, () -> Preset.ci().toBuilder().saeSourceStep(9).build(), "beyond the source's rounds");
  }

  @Test
  void validationProblemsOfEverySeedAreDisjointFromTheTestSet() {
    Preset p = Preset.ci();
    int n = Search.Space.around(p).tune().problems();
    Set<String> test = new HashSet<>();
    for (ArithmeticTask.Problem q : Stages.testSet(p)) test.add(q.expression());
    for (long seed : new long[] {0, 1, 2}) {
      for (ArithmeticTask.Problem q : new Stages(p, out, seed, null).validation(n)) {
        assertFalse(test.contains(q.expression()), "seed " + seed + ": validation problem " + q.expression() + " is a test problem");
      }
    }
  }

  @Test
  void tinyRunWithSearchThenDoseResponseOnTheSameStages() throws Exception {
    Preset p = ModularityTest.tiny(); // 1 GRPO round: source steps 0 (base) and 1 (the finished source)
    Search.Space space = new Search.Space(List.of(32, 64), List.of(4), List.of(p.hookLayer()), List.of(0, 1),
        new TuneSweep.Grid(List.of(p.tuneLr()), List.of(p.tuneSteps()), 12));
    RunResult r = Miniature.run(p, out, false, 0, space);
    Path dir = r.dir();
    Table search = Table.read().csv(dir.resolve("search.csv").toString());
    System.out.println(search.print());
    // width: 32, 64 (the preset's 128 too); k: 4; layer: 2; source step: 0, 1
    assertEquals(List.of("width", "width", "width", "k", "layer", "source_step", "source_step"), search.stringColumn("axis").asList());
    Search.Pick pick = Search.load(dir);
    assertEquals(pick.apply(p), Preset.ofRun(dir), "the main routes ran with the pick");
    assertTrue(r.report().contains("picked on 12 validation problems"), "the report names the pick and its validation problems");
    try (Stream<Path> files = Files.walk(dir.resolve("search"))) {
      List<Path> evals = files.filter(f -> f.getFileName().toString().equals("eval")).toList();
      assertEquals(List.of(), evals, "the search scored nothing on the test problems");
    }

    Map<Path, Long> stamps = new HashMap<>();
    try (Stream<Path> files = Files.walk(dir.resolve("search"))) {
      for (Path f : files.filter(f -> f.getFileName().toString().equals("stage.json")).toList()) stamps.put(f, Files.getLastModifiedTime(f).toMillis());
    }
    Table dose = Experiments.doseResponse(p, out, 0, List.of(32, 64), List.of(2));
    System.out.println(dose.print());
    assertEquals(List.of("axis", "width", "k", "fvu_base", "fvu_source", "start_kl", "final_kl", "pass1", "pass1_lo", "pass1_hi", "recovered",
        "recovered_lo", "recovered_hi"), dose.columnNames());
    assertEquals(List.of(32, 64, p.saeLatents()), dose.intColumn("width").asList());
    assertEquals(List.of(p.saeK(), p.saeK(), 2), dose.intColumn("k").asList());
    for (int i = 0; i < dose.rowCount(); i++) {
      double est = dose.doubleColumn("pass1").get(i);
      assertTrue(dose.doubleColumn("pass1_lo").get(i) <= est && est <= dose.doubleColumn("pass1_hi").get(i), "interval around the estimate");
      assertTrue(dose.doubleColumn("fvu_base").get(i) > 0 && dose.doubleColumn("start_kl").get(i) >= 0);
    }
    for (var e : stamps.entrySet()) {
      assertEquals(e.getValue(), Files.getLastModifiedTime(e.getKey()).toMillis(), "the dose-response retrained the search's " + e.getKey());
    }
    Path w32 = Search.dir(dir, p.toBuilder().saeLatents(32).build());
    assertTrue(Files.isRegularFile(w32.resolve("tuned-lr" + Departures.g(p.tuneLr()) + "-s" + p.tuneSteps()).resolve("eval/problems.csv")),
        "the dose-response scored the search's width-32 model on the test set");
  }
}
