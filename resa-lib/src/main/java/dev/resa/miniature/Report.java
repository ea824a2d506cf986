package dev.resa.miniature;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import dev.resa.io.AtomicFiles;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

/**
 * Turns a run directory's stage files into {@code scores.csv}, {@code costs.csv}, {@code saes.csv},
 * {@code stages.csv} and {@code report.md}. Every number in the report is read from the run's own files.
 */
final class Report {
  private Report() {}

  private static final Gson GSON = new Gson();

  /** Writes the CSVs, plots and {@code report.md} of the run of {@code seed} in {@code dir}. */
  static void write(Path dir, Preset p, long seed, int testSize, TuneSweep.Pick pick, Search.Pick search) throws IOException {
    Map<String, JsonObject> eval = new LinkedHashMap<>();
    for (Miniature.Route r : Miniature.ROUTES) {
      eval.put(r.name(), GSON.fromJson(Files.readString(dir.resolve("eval").resolve(r.name() + ".json")), JsonObject.class).getAsJsonObject("score"));
    }
    Intervals iv = Intervals.compute(List.of(seed), Intervals.load(List.of(dir)), Intervals.BOOTSTRAP);
    Table scores = scores(eval, iv);
    Table stages = stages(dir);
    Table costs = costs(dir, eval);
    Table saes = saes(dir, eval);
    for (Table t : List.of(scores, stages, costs, saes, iv.table())) csv(t, dir.resolve(t.name() + ".csv"));
    RunPlots.write(dir, scores, saes);

    StringBuilder md = new StringBuilder();
    md.append("# Resa in miniature: run `").append(dir.getFileName()).append("`\n\n");
    md.append(String.format(Locale.ROOT, "Preset `%s`: tiny Qwen2 (d=%d, %d layers), task = %d-%d operations on %d-digit numbers%s; "
            + "SAE on `layers.%d` (%d latents, k=%d); %d held-out test problems x %d samples at T=0.6 plus greedy.%n%n",
        p.name(), p.hidden(), p.layers(), p.task().minSteps(), p.task().maxSteps(), p.task().digits(),
        p.task().modulus() > 0 ? " mod " + p.task().modulus() : "", p.hookLayer(), p.saeLatents(), p.saeK(), testSize, p.samples()));
    md.append(chanceNote(eval, p, testSize * p.samples()));
    md.append("## Verdict\n\n").append(Verdict.of(iv)).append("\n");
    md.append("## Table 3 / 4 analog: held-out accuracy\n\n").append(markdown(scores)).append('\n');
    md.append("Pass@1 = mean accuracy of samples at T=0.6, top-p 0.95; `se` = its binomial standard error (samples taken as "
        + "independent); `lo`/`hi` = its 95 % bootstrap interval over problems (what the verdict uses); "
        + "think = share of samples with at least one worked step; acc|think and acc|direct split Pass@1 by that decision.\n\n");
    md.append("## Intervals\n\n").append(iv.markdown()).append('\n');
    md.append("## Departures from the paper's recipe\n\n").append(Departures.markdown(p, pick, search)).append('\n');
    if (search != null) md.append(search.describe()).append("\n\n");
    else if (pick != null) md.append(pick.describe()).append("\n\n");
    md.append("## Stage I: SAEs (Table 4's modes)\n\n").append(markdown(saes)).append('\n');
    md.append("FVU on held-out CoT-free texts of each model; start/final KL = token-mean KL(base || spliced base) before "
        + "and after Stage II.\n\n");
    md.append("## Figure 1 analog: cost of each route\n\n").append(markdown(costs)).append('\n');
    md.append("FLOPs are estimates from logged token counts (see `Costs`); wall time is measured on this machine. "
        + "Resa's route includes Stage I (activation capture + SAE training), as the paper's Figure 1 does.\n\n");
    md.append("## Every stage\n\n").append(markdown(stages)).append('\n');
    md.append("Plots: `plots/*.html` (losses, FVU/L0, accuracies, feature density). Logs: `*/train.csv`.\n");
    AtomicFiles.writeString(dir.resolve("report.md"), md.toString());
  }

  static double num(JsonObject o, String k) {
    return o.has(k) && !o.get(k).isJsonNull() ? o.get(k).getAsDouble() : Double.NaN;
  }

  private static Table scores(Map<String, JsonObject> eval, Intervals iv) {
    StringColumn model = StringColumn.create("model"), route = StringColumn.create("route"), role = StringColumn.create("role");
    DoubleColumn pass1 = DoubleColumn.create("pass1"), se = DoubleColumn.create("se"), lo = DoubleColumn.create("lo"), hi = DoubleColumn.create("hi"),
        greedy = DoubleColumn.create("greedy"),
        think = DoubleColumn.create("think"), accThink = DoubleColumn.create("acc_think"), accDirect = DoubleColumn.create("acc_direct");
    for (Miniature.Route r : Miniature.ROUTES) {
      JsonObject s = eval.get(r.name());
      model.append(r.name());
      route.append(label(r.kind()));
      role.append(r.role());
      double p1 = num(s, "pass1");
      pass1.append(p1);
      se.append(Math.sqrt(p1 * (1 - p1) / num(s, "completions")));
      lo.append(iv.means().get(r).pooled().lo());
      hi.append(iv.means().get(r).pooled().hi());
      greedy.append(num(s, "greedy"));
      think.append(num(s, "thinkRate"));
      accThink.append(num(s, "pass1Thinking"));
      accDirect.append(num(s, "pass1Direct"));
    }
    return Table.create("scores", model, route, pass1, se, lo, hi, greedy, think, accThink, accDirect, role);
  }

  private static Table stages(Path dir) throws IOException {
    StringColumn stage = StringColumn.create("stage");
    DoubleColumn wall = DoubleColumn.create("wall_s"), steps = DoubleColumn.create("steps"), flops = DoubleColumn.create("flops");
    List<String> names = new ArrayList<>(List.of("base", "source"));
    for (Miniature.SaeMode m : Miniature.SaeMode.values()) names.add(m.dir());
    for (Miniature.Route r : Miniature.ROUTES) if (!names.contains(r.dir())) names.add(r.dir());
    for (String n : names) {
      Map<String, Double> s = RunCache.read(dir.resolve(n));
      stage.append(n);
      wall.append(s.get("wall_s"));
      steps.append(s.get("steps"));
      flops.append(s.getOrDefault("flops", Double.NaN));
    }
    for (Miniature.Route r : Miniature.ROUTES) {
      JsonObject e = GSON.fromJson(Files.readString(dir.resolve("eval").resolve(r.name() + ".json")), JsonObject.class);
      stage.append("eval/" + r.name());
      wall.append(num(e, "wall_s"));
      steps.append(Double.NaN);
      flops.append(Double.NaN);
    }
    stage.append("total");
    wall.append(wall.sum());
    steps.append(Double.NaN);
    flops.append(Double.NaN);
    return Table.create("stages", stage, steps, wall, flops);
  }

  /** A row of Figure 1's cost table: a route, priced by the stage folders it needs (Stage I included, as the paper). */
  private record Cost(String label, Miniature.Route route) {
    List<String> stages(int layer) {
      if (route.kind() != Miniature.Kind.SAE_TUNING) return List.of(route.dir());
      return List.of("acts/" + route.sae().model.dir() + "-trigger-layers." + layer, route.sae().dir(), route.dir());
    }
  }

  private static final List<Cost> COSTS = List.of(
      new Cost("RL (CoT-free GRPO)", Miniature.route("source")),
      new Cost("SAE-Tuning (Resa)", Miniature.route("resa")),
      new Cost("SAE-Tuning, base as source", Miniature.route("resa-self")),
      new Cost("CoT-free SFT", Miniature.route("sft-cotfree")),
      new Cost("CoT SFT", Miniature.route("sft-cot")));

  private static Table costs(Path dir, Map<String, JsonObject> eval) throws IOException {
    StringColumn route = StringColumn.create("route"), model = StringColumn.create("model");
    DoubleColumn wall = DoubleColumn.create("wall_s"), flops = DoubleColumn.create("flops"), pass1 = DoubleColumn.create("pass1"),
        gain = DoubleColumn.create("gain_over_base");
    double base = num(eval.get("base"), "pass1");
    int layer = Preset.ofRun(dir).hookLayer();
    for (Cost c : COSTS) {
      double w = 0, f = 0;
      for (String st : c.stages(layer)) {
        Map<String, Double> s = RunCache.read(dir.resolve(st));
        w += s.get("wall_s");
        f += s.getOrDefault("flops", 0.0);
      }
      route.append(c.label());
      model.append(c.route().name());
      wall.append(w);
      flops.append(f);
      double p1 = num(eval.get(c.route().name()), "pass1");
      pass1.append(p1);
      gain.append(p1 - base);
    }
    return Table.create("costs", route, model, wall, flops, pass1, gain);
  }

  private static Table saes(Path dir, Map<String, JsonObject> eval) throws IOException {
    StringColumn mode = StringColumn.create("mode"), model = StringColumn.create("model"), data = StringColumn.create("data"),
        tuned = StringColumn.create("tuned");
    DoubleColumn fvuTrain = DoubleColumn.create("fvu_train"), l0 = DoubleColumn.create("l0"), dead = DoubleColumn.create("dead_pct"),
        fvuSource = DoubleColumn.create("fvu_source"), fvuBase = DoubleColumn.create("fvu_base"),
        startKl = DoubleColumn.create("start_kl"), finalKl = DoubleColumn.create("final_kl"), pass1 = DoubleColumn.create("pass1");
    for (Miniature.Route r : Miniature.ROUTES) {
      if (r.kind() != Miniature.Kind.SAE_TUNING) continue;
      Map<String, Double> s = RunCache.read(dir.resolve(r.sae().dir()));
      Table log = Table.read().csv(dir.resolve(r.sae().dir()).resolve("train.csv").toString());
      int last = log.rowCount() - 1;
      Map<String, Double> t = RunCache.read(dir.resolve(r.dir()));
      mode.append(r.sae().name().toLowerCase(Locale.ROOT));
      model.append(r.sae().model.dir());
      data.append(r.sae().data);
      fvuTrain.append(log.numberColumn("fvu").getDouble(last));
      l0.append(log.numberColumn("l0").getDouble(last));
      dead.append(log.numberColumn("dead_pct").getDouble(last));
      fvuSource.append(s.get("fvu_heldout_source"));
      fvuBase.append(s.get("fvu_heldout_base"));
      tuned.append(r.name());
      startKl.append(t.get("start_kl"));
      finalKl.append(t.get("final_kl"));
      pass1.append(num(eval.get(r.name()), "pass1"));
    }
    Map<String, Double> ctl = RunCache.read(dir.resolve("tuned").resolve("control-random"));
    mode.append("random");
    model.append("-");
    data.append("h + s(h-mu)M, s matched on start KL");
    fvuTrain.append(Double.NaN);
    l0.append(Double.NaN);
    dead.append(Double.NaN);
    fvuSource.append(Double.NaN);
    fvuBase.append(Double.NaN);
    tuned.append("control-random");
    startKl.append(ctl.get("start_kl"));
    finalKl.append(ctl.get("final_kl"));
    pass1.append(num(eval.get("control-random"), "pass1"));
    return Table.create("saes", mode, model, data, fvuTrain, l0, dead, fvuSource, fvuBase, tuned, startKl, finalKl, pass1);
  }

  private static String label(Miniature.Kind k) {
    return switch (k) {
      case PRETRAINING -> "pretraining";
      case RL -> "RL";
      case SAE_TUNING -> "SAE-Tuning";
      case CONTROL -> "control";
      case SFT_COTFREE, SFT_COT -> "SFT";
    };
  }

  /**
   * A warning at the top when the models are at chance (a CI-sized run): then no claim below means anything. Chance
   * = 1 / modulus for the task's one-digit answers; "at chance" = every model within two standard errors of it.
   */
  static String chanceNote(Map<String, JsonObject> eval, Preset p, int n) {
    if (p.task().modulus() <= 1) return "";
    double chance = 1.0 / p.task().modulus(), margin = 2 * Math.sqrt(chance * (1 - chance) / n), best = 0;
    for (JsonObject s : eval.values()) best = Math.max(best, num(s, "pass1"));
    if (best > chance + margin) return "";
    return String.format(Locale.ROOT, "> **Every model is at chance** (best Pass@1 %.3f; chance %.3f +- %.3f): this preset is too small to "
        + "train a base that reasons, so the verdict below is noise. Run `./resa miniature` (the default preset) for a real result.%n%n",
        best, chance, margin);
  }

  /** {@code v} with 3 significant digits, no exponent for everyday magnitudes (0.0123, 1.23, 123, 1234). */
  static String sig3(double v) {
    if (v == 0) return "0";
    double a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) return String.format(Locale.ROOT, "%.2e", v);
    if (a >= 100) return String.format(Locale.ROOT, "%.0f", v);
    return new java.math.BigDecimal(v).round(new java.math.MathContext(3)).stripTrailingZeros().toPlainString();
  }

  static void csv(Table t, Path file) throws IOException {
    AtomicFiles.write(file, out -> t.write().csv(new OutputStreamWriter(out, StandardCharsets.UTF_8)));
  }

  /** A GitHub-flavoured markdown table; doubles get 3 significant digits (FLOPs and wall times too). */
  static String markdown(Table t) {
    StringBuilder sb = new StringBuilder("|");
    for (Column<?> c : t.columns()) sb.append(' ').append(c.name()).append(" |");
    sb.append("\n|");
    for (int i = 0; i < t.columnCount(); i++) sb.append("---|");
    sb.append('\n');
    for (int r = 0; r < t.rowCount(); r++) {
      sb.append('|');
      for (Column<?> c : t.columns()) {
        Object v = c.get(r);
        String cell;
        if (v == null) {
          cell = "-";
        } else if (v instanceof Double d) {
          if (d.isNaN()) cell = "-";
          else if (c.name().equals("flops")) cell = String.format(Locale.ROOT, "%.2e", d);
          else if (c.name().equals("steps")) cell = String.format(Locale.ROOT, "%.0f", d);
          else cell = sig3(d);
        } else {
          cell = String.valueOf(v);
        }
        sb.append(' ').append(cell).append(" |");
      }
      sb.append('\n');
    }
    return sb.toString();
  }
}
