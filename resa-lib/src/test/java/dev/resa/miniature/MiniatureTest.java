package dev.resa.miniature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** The {@code ci} preset end to end (about 3 minutes on 2 cores), then a second run that must reuse the cache. */
class MiniatureTest {
  @TempDir Path out;

  @Test
  void ciPresetRunsEndToEndAndReusesItsCache() throws Exception {
    RunResult r = Miniature.run(Preset.ci(), out, false, 0);
    Path dir = r.dir();
    System.out.println(r.scores().print() + "\n" + r.saes().print() + "\n" + r.costs().print()); // the ci run's tables, for the log
    for (String f : List.of("report.md", "scores.csv", "costs.csv", "saes.csv", "stages.csv", "base/train.csv", "source/train.csv")) {
      assertTrue(Files.isRegularFile(dir.resolve(f)), "missing " + f);
    }
    List<String> models = r.scores().stringColumn("model").asList();
    for (Miniature.Route m : Miniature.ROUTES) assertTrue(models.contains(m.name()), "scores.csv lacks row " + m.name());
    assertEquals(Miniature.ROUTES.size(), r.scores().rowCount());
    for (int i = 0; i < r.scores().rowCount(); i++) {
      double p1 = r.scores().doubleColumn("pass1").get(i);
      assertTrue(p1 >= 0 && p1 <= 1, "pass1 in [0, 1]: " + p1);
    }
    assertEquals(5, r.costs().rowCount(), "one cost row per route");
    for (int i = 0; i < r.costs().rowCount(); i++) assertTrue(r.costs().doubleColumn("flops").get(i) > 0, "flops estimated");
    assertEquals(5, r.saes().rowCount(), "four SAE modes and the random control");
    Table base = r.log("base");
    double first = base.doubleColumn("loss").get(0), last = base.doubleColumn("loss").get(base.rowCount() - 1);
    assertFalse(Double.isNaN(last), "base loss is finite");
    assertTrue(last < first * 0.6, "base pretraining lowers the loss: " + first + " -> " + last);
    assertTrue(r.report().contains("## Verdict") && r.report().contains("reproduce"), "the report states the verdict");
    for (Miniature.Route m : Miniature.ROUTES) assertTrue(r.report().contains("| " + m.name() + " |"), "report row " + m.name());

    Map<Path, Long> stamps = new HashMap<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(f -> f.getFileName().toString().equals("stage.json") || f.toString().contains("/eval/")).toList()) {
        stamps.put(f, Files.getLastModifiedTime(f).toMillis());
      }
    }
    assertTrue(stamps.size() >= 20, "every stage and evaluation left a marker: " + stamps.size());
    Miniature.run(Preset.ci(), out, false, 0);
    for (var e : stamps.entrySet()) {
      assertEquals(e.getValue(), Files.getLastModifiedTime(e.getKey()).toMillis(), "cached stage rewritten: " + e.getKey());
    }
    // A changed evaluation knob re-runs only the evaluations: every trained stage is read back from the cache.
    Miniature.run(Preset.ci().toBuilder().samples(1).build(), out, false, 0);
    for (var e : stamps.entrySet()) {
      boolean eval = e.getKey().toString().contains("/eval/");
      assertEquals(!eval, e.getValue() == Files.getLastModifiedTime(e.getKey()).toMillis(), (eval ? "evaluation kept: " : "stage retrained: ") + e.getKey());
    }
    Miniature.run(Preset.ci(), out, false, 0); // back to the main settings for the experiments below

    // An experiment with the main run's own settings (from-scratch SAE on source at the hook layer, in-distribution
    // trigger texts, the preset's steps) must reproduce the main run's Resa stage for stage.
    Preset p = Preset.ci();
    Experiment same = new Experiment("same", Miniature.Model.SOURCE, p.hookLayer(), null, p.saeSteps(), p.tuneSteps());
    Table row = Experiments.experiment(p, out, 0, same);
    Map<String, Double> resa = RunCache.read(dir.resolve("tuned/resa"));
    assertEquals(resa.get("start_kl"), row.doubleColumn("start_kl").get(0), 1e-9, "the same SAE gives the same starting KL");
    assertEquals(resa.get("final_kl"), row.doubleColumn("final_kl").get(0), 1e-6, "the same Stage II gives the same final KL");
    assertEquals(r.scores().where(r.scores().stringColumn("model").isEqualTo("resa")).doubleColumn("pass1").get(0),
        row.doubleColumn("pass1").get(0), 1e-12, "and the same held-out Pass@1");
    // the same name with other settings is rebuilt, not read back
    Experiment shorter = new Experiment("same", Miniature.Model.SOURCE, p.hookLayer(), null, p.saeSteps() / 3, 0);
    Table redone = Experiments.experiment(p, out, 0, shorter);
    assertEquals(p.saeSteps() / 3, RunCache.read(shorter.dir(dir).resolve("sae")).get("steps"), 1e-9);
    assertTrue(redone.doubleColumn("pass1").isMissing(0), "no Stage II, no score");
    IllegalArgumentException lastLayer = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> Experiments.experiment(p, out, 0, new Experiment("last", Miniature.Model.SOURCE, p.layers() - 1, null, 10, 10)));
    assertTrue(lastLayer.getMessage().contains("is the last"), lastLayer.getMessage());
  }
}
