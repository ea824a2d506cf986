package dev.resa.miniature;

import ai.djl.ndarray.NDManager;
import dev.resa.io.AtomicFiles;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.task.ArithmeticTask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.ToIntFunction;
import java.util.stream.IntStream;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * A validation search over Resa's setup at toy scale, wider than {@link TuneSweep}: coordinate by coordinate from the
 * preset's values, it tries each SAE width m, then each k, then each hook layer, then each source step whose
 * activations train the SAE ({@link SourceSweep#availableSteps}; 0 = base as its own source), keeping on each axis the
 * value with the highest validation Pass@1 before moving to the next; then {@link TuneSweep} picks Stage II's lr and
 * steps with the chosen SAE. A candidate is Stage I from scratch on that source, layer, width and k, Stage II of base
 * with it at the preset's lr and steps, and Pass@1 on {@link Stages#validation} problems (train split, disjoint from
 * the test set and the seed's pool): the test set is never read. Stages are cached under {@code <run>/search/} and keyed
 * like every stage, so a candidate met on two axes, or by {@link DoseResponse}, is trained once. Writes
 * {@code search.csv} (every candidate) and {@code search-pick.json}.
 */
public final class Search {
  private Search() {}

  /** The axes, in search order; each is one preset field. */
  public enum Axis {
    /** SAE width m ({@code saeLatents}). */
    WIDTH(Preset::saeLatents, (p, v) -> p.toBuilder().saeLatents(v).build()),
    /** Active latents per token ({@code saeK}). */
    K(Preset::saeK, (p, v) -> p.toBuilder().saeK(v).build()),
    /** The SAE's layer ({@code hookLayer}). */
    LAYER(Preset::hookLayer, (p, v) -> p.toBuilder().hookLayer(v).build()),
    /** GRPO rounds of the source whose activations train the SAE ({@code saeSourceStep}). */
    SOURCE_STEP(Preset::saeSourceStep, (p, v) -> p.toBuilder().saeSourceStep(v).build());

    private final ToIntFunction<Preset> get;
    private final BiFunction<Preset, Integer, Preset> set;

    Axis(ToIntFunction<Preset> get, BiFunction<Preset, Integer, Preset> set) {
      this.get = get;
      this.set = set;
    }

    public int of(Preset p) {
      return get.applyAsInt(p);
    }

    public Preset with(Preset p, int v) {
      return set.apply(p, v);
    }
  }

  /**
   * What the search tries. On every axis the current value (the preset's, or an earlier axis's pick) is tried as well.
   *
   * @param widths SAE widths m (default: the preset's x 0.5, 1, 2).
   * @param ks TopK k (default 2, 4, 8: halved, kept and doubled around the presets' 4).
   * @param layers hook layers (default 0 .. layers - 2: Stage II adapts the layers after the splice, so the last has none).
   * @param sourceSteps source GRPO rounds for Stage I (default: every kept checkpoint and the finished source).
   * @param tune Stage II's lr x steps grid, searched last with the chosen SAE; its problem count is every candidate's
   *     (default {@link TuneSweep.Grid#around}).
   */
  public record Space(List<Integer> widths, List<Integer> ks, List<Integer> layers, List<Integer> sourceSteps, TuneSweep.Grid tune) {
    public Space {
      widths = sorted(widths);
      ks = sorted(ks);
      layers = sorted(layers);
      sourceSteps = sorted(sourceSteps);
      if (widths.get(0) <= 0 || ks.get(0) <= 0 || layers.get(0) < 0 || sourceSteps.get(0) < 0) {
        throw new IllegalArgumentException("need positive widths and k, non-negative layers and source steps");
      }
    }

    /** The default space of preset {@code p} (see the fields). */
    public static Space around(Preset p) {
      return new Space(List.of(Math.max(p.saeK(), p.saeLatents() / 2), p.saeLatents(), 2 * p.saeLatents()), List.of(2, 4, 8),
          IntStream.range(0, p.layers() - 1).boxed().toList(), IntStream.of(SourceSweep.availableSteps(p)).boxed().toList(), TuneSweep.Grid.around(p));
    }

    /** The values tried on {@code a} from {@code current}: the axis's values and the current one, ascending. */
    List<Integer> values(Axis a, int current) {
      TreeSet<Integer> v = new TreeSet<>(switch (a) {
        case WIDTH -> widths;
        case K -> ks;
        case LAYER -> layers;
        case SOURCE_STEP -> sourceSteps;
      });
      v.add(current);
      return List.copyOf(v);
    }

    private static List<Integer> sorted(List<Integer> xs) {
      if (xs.isEmpty()) throw new IllegalArgumentException("an axis of the search space is empty");
      return List.copyOf(new TreeSet<>(xs));
    }
  }

  /**
   * One candidate: the axis it varied and its setup, with validation scores and Stage I / II diagnostics.
   *
   * @param pass1 validation Pass@1 of SAE-tuned base.
   * @param think share of its validation samples with a worked step.
   * @param fvuBase held-out FVU of the SAE on base's activations (the model it is spliced into in Stage II).
   * @param startKl token-mean KL(base ‖ base with the SAE spliced in) before Stage II (nats).
   * @param finalKl the same after Stage II.
   * @param seconds wall time of its Stage I, Stage II and validation scoring (from their stage records, so also after a cache hit).
   */
  public record Candidate(Axis axis, int value, int width, int k, int layer, int sourceStep, double pass1, double think, double fvuBase,
      double startKl, double finalKl, double seconds) {}

  /**
   * The search's outcome.
   *
   * @param problems validation problems every candidate was scored on.
   * @param tune Stage II's lr and steps, chosen by {@link TuneSweep} with the chosen SAE.
   * @param tuneSeconds wall time of that Stage-II sweep.
   */
  public record Pick(int width, int k, int layer, int sourceStep, int problems, TuneSweep.Pick tune, double tuneSeconds, List<Candidate> candidates) {
    /** {@code p} with the SAE's width, k, layer, source step and Stage II's lr and steps replaced by the pick. */
    public Preset apply(Preset p) {
      return tune.apply(p.toBuilder().saeLatents(width).saeK(k).hookLayer(layer).saeSourceStep(sourceStep).build());
    }

    /** Stage-I setups tried (a setup met on several axes counts once). */
    public int setups() {
      return (int) candidates.stream().map(c -> List.of(c.width(), c.k(), c.layer(), c.sourceStep())).distinct().count();
    }

    /** Wall time of the whole search (seconds): each setup once, plus the Stage-II sweep. */
    public double seconds() {
      Map<List<Integer>, Double> once = new java.util.LinkedHashMap<>();
      for (Candidate c : candidates) once.put(List.of(c.width(), c.k(), c.layer(), c.sourceStep()), c.seconds());
      return once.values().stream().mapToDouble(Double::doubleValue).sum() + tuneSeconds;
    }

    /** One paragraph for the report: the pick, what it was chosen from and on which problems. */
    public String describe() {
      return String.format(Locale.ROOT, "Stage I's setup picked on %d validation problems (train split, disjoint from the test problems and "
          + "from the seed's training pool), one axis at a time from the preset's values: width %d, k %d, `layers.%d`, SAE trained on the "
          + "source after %d GRPO rounds (%d setups in `search.csv`; the search took %.0f s); then %s", problems, width, k, layer, sourceStep,
          setups(), seconds(), tune.describe());
    }
  }

  /** Where a run made with a search records its pick. */
  static final String PICK = "search-pick.json";

  /** Runs (or reads back from the cache) the search on run {@code runDir}, whose base and source are trained; writes {@code search.csv} and the pick. */
  static Pick run(Preset p, Path runDir, long seed, Space space, String baseKey, NDManager root) throws IOException {
    List<ArithmeticTask.Problem> val = new Stages(p, runDir, seed, root).validation(space.tune().problems());
    Preset at = p;
    List<Candidate> rows = new ArrayList<>();
    for (Axis a : Axis.values()) {
      List<Candidate> axis = new ArrayList<>();
      for (int v : space.values(a, a.of(at))) {
        System.out.println("== search: " + a + " = " + v);
        axis.add(candidate(a, v, a.with(at, v), runDir, seed, baseKey, val, root));
      }
      at = a.with(at, best(axis, a.of(at)));
      rows.addAll(axis);
    }
    Trained t = train(at, runDir, seed, baseKey, root);
    TuneSweep.Pick tune = TuneSweep.run(t.stages(), at, runDir, seed, space.tune(), baseKey, t.sae(), RunCache.keyOf(t.sae()));
    Report.csv(table(rows), runDir.resolve("search.csv"));
    Pick pick = new Pick(at.saeLatents(), at.saeK(), at.hookLayer(), at.saeSourceStep(), val.size(), tune,
        RunCache.read(runDir.resolve("sweep")).get("wall_s"), List.copyOf(rows));
    AtomicFiles.writeString(runDir.resolve(PICK), RunCache.GSON.toJson(pick));
    System.out.printf(Locale.ROOT, "== search: %d setups, %.0f s per setup on average, %.0f s of Stage-II sweep, %.0f s in all%n", pick.setups(),
        (pick.seconds() - pick.tuneSeconds()) / pick.setups(), pick.tuneSeconds(), pick.seconds());
    return pick;
  }

  /** The value with the highest validation Pass@1; ties go to {@code current}, then to the smaller value. */
  static int best(List<Candidate> axis, int current) {
    Comparator<Candidate> order = Comparator.comparingDouble(Candidate::pass1).reversed().thenComparing(c -> c.value() != current)
        .thenComparingInt(Candidate::value);
    return axis.stream().min(order).orElseThrow(() -> new IllegalStateException("no candidate on this axis")).value();
  }

  /** A Stage-I setup trained: the stages of its preset, its SAE folder and its Stage-II folder. */
  record Trained(Stages stages, Path sae, Path tuned) {}

  /** Where the Stage-I setup of {@code c} lives: {@code <run>/search/w<m>-k<k>-l<layer>-src<step>/}. */
  static Path dir(Path runDir, Preset c) {
    return runDir.resolve("search").resolve("w" + c.saeLatents() + "-k" + c.saeK() + "-l" + c.hookLayer() + "-src" + c.saeSourceStep());
  }

  /**
   * Stage I from scratch on the source after {@code c.saeSourceStep()} rounds at c's layer, width and k, then Stage II of
   * base with it at c's lr and steps ({@code tuned-lr<lr>-s<steps>/} beside the SAE), both cached.
   */
  static Trained train(Preset c, Path runDir, long seed, String baseKey, NDManager root) throws IOException {
    Stages s = new Stages(c, runDir, seed, root);
    Path model = SourceSweep.sourceAt(c, runDir, c.saeSourceStep(), root);
    Path d = dir(runDir, c);
    String saeKey = s.scratchSae(d.resolve("sae"), model, RunCache.keyOf(model));
    Path tuned = d.resolve("tuned-lr" + Departures.g(c.tuneLr()) + "-s" + c.tuneSteps());
    s.tune(tuned, runDir.relativize(tuned).toString(), baseKey, d.resolve("sae"), saeKey, false, c.hookLayer(), c.tuneSteps());
    return new Trained(s, d.resolve("sae"), tuned);
  }

  private static Candidate candidate(Axis a, int v, Preset c, Path runDir, long seed, String baseKey, List<ArithmeticTask.Problem> val,
      NDManager root) throws IOException {
    Trained t = train(c, runDir, seed, baseKey, root);
    Path vd = t.tuned().resolve("validation");
    String key = RunCache.key("validation", RunCache.keyOf(t.tuned()), val.size(), c.samples(), c.maxNewTokens(), seed);
    if (!RunCache.done(vd, key)) {
      long t0 = System.nanoTime();
      try (DecoderLM model = HfCheckpoint.load(t.tuned(), root)) {
        Scoring.Score sc = Scoring.score(model, c, "validation " + runDir.relativize(t.tuned()), val).score();
        RunCache.finish(vd, key, Table.create("none"), t0, Map.of("pass1", sc.pass1(), "think", sc.thinkRate()));
      }
    }
    Map<String, Double> sae = RunCache.read(t.sae()), tuned = RunCache.read(t.tuned()), score = RunCache.read(vd);
    return new Candidate(a, v, c.saeLatents(), c.saeK(), c.hookLayer(), c.saeSourceStep(), score.get("pass1"), score.get("think"),
        sae.get("fvu_heldout_base"), tuned.get("start_kl"), tuned.get("final_kl"), sae.get("wall_s") + tuned.get("wall_s") + score.get("wall_s"));
  }

  /** Every candidate, in search order: axis, value, width, k, layer, source_step, val_pass1, val_think, fvu_base, start_kl, final_kl, seconds. */
  public static Table table(List<Candidate> rows) {
    return Table.create("search", StringColumn.create("axis", rows.stream().map(r -> r.axis().name().toLowerCase(Locale.ROOT)).toList()),
        ints("value", rows, Candidate::value), ints("width", rows, Candidate::width), ints("k", rows, Candidate::k),
        ints("layer", rows, Candidate::layer), ints("source_step", rows, Candidate::sourceStep),
        doubles("val_pass1", rows, Candidate::pass1), doubles("val_think", rows, Candidate::think), doubles("fvu_base", rows, Candidate::fvuBase),
        doubles("start_kl", rows, Candidate::startKl), doubles("final_kl", rows, Candidate::finalKl), doubles("seconds", rows, Candidate::seconds));
  }

  private static IntColumn ints(String name, List<Candidate> rows, ToIntFunction<Candidate> f) {
    return IntColumn.create(name, rows.stream().mapToInt(f).toArray());
  }

  private static DoubleColumn doubles(String name, List<Candidate> rows, java.util.function.ToDoubleFunction<Candidate> f) {
    return DoubleColumn.create(name, rows.stream().mapToDouble(f).toArray());
  }

  /** The pick of a run made with a search, or null for a run made without one. */
  static Pick load(Path runDir) throws IOException {
    Path f = runDir.resolve(PICK);
    return Files.isRegularFile(f) ? RunCache.GSON.fromJson(Files.readString(f), Pick.class) : null;
  }

  /** Removes a stale {@code search.csv} and pick from a run made without a search (the cached stages stay). */
  static void clear(Path runDir) throws IOException {
    Files.deleteIfExists(runDir.resolve("search.csv"));
    Files.deleteIfExists(runDir.resolve(PICK));
  }
}
