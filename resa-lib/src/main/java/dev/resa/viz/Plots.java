package dev.resa.viz;

import ai.djl.ndarray.NDArray;
import dev.resa.io.AtomicFiles;
import dev.resa.sae.SparseCoder;
import dev.resa.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.NumericColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.components.Axis;
import tech.tablesaw.plotly.components.Figure;
import tech.tablesaw.plotly.components.Layout;
import tech.tablesaw.plotly.components.Line;
import tech.tablesaw.plotly.components.Marker;
import tech.tablesaw.plotly.traces.BarTrace;
import tech.tablesaw.plotly.traces.HeatmapTrace;
import tech.tablesaw.plotly.traces.HistogramTrace;
import tech.tablesaw.plotly.traces.ScatterTrace;
import tech.tablesaw.plotly.traces.Trace;

/**
 * Figures for training and analysis, as Tablesaw {@link Figure}s: they render inline in the kernel and can be saved
 * as standalone offline pages with {@link #saveHtml}.
 *
 * <p>Training tables have a {@code step} column plus one numeric column per metric ({@code loss}, {@code kl},
 * {@code fvu}, {@code l0}, ...), one row per logged step.
 */
public final class Plots {
  private Plots() {}

  /** Column holding the optimizer step in training tables. */
  public static final String STEP = "step";
  private static final int HEIGHT = 360;

  /** One line per metric column against {@code step}; metrics default to whichever of loss and kl the table has. */
  public static Figure loss(Table training, String... metrics) {
    String[] cols = metrics.length > 0 ? metrics
        : Arrays.stream(new String[] {"loss", "kl"}).filter(training::containsColumn).toArray(String[]::new);
    if (cols.length == 0) {
      throw new IllegalArgumentException("no loss/kl column in training table '" + training.name() + "'; columns: "
          + training.columnNames());
    }
    return curves("Training loss", training, STEP, cols);
  }

  /** Fraction of variance unexplained (reconstruction error / variance of the input) per step. */
  public static Figure fvu(Table training) {
    return curves("Fraction of variance unexplained", training, STEP, "fvu");
  }

  /** L0 (mean number of active latents per token) per step. */
  public static Figure l0(Table training) {
    return curves("L0 (active latents per token)", training, STEP, "l0");
  }

  /** Line chart of numeric columns {@code ys} against column {@code x}. */
  public static Figure curves(String title, Table t, String x, String... ys) {
    requireColumns(t, x);
    requireColumns(t, ys);
    NumericColumn<?> xs = t.numberColumn(x);
    List<Trace> traces = new ArrayList<>();
    for (String y : ys) {
      traces.add(ScatterTrace.builder(xs, t.numberColumn(y)).mode(ScatterTrace.Mode.LINE).name(y).build());
    }
    String yTitle = ys.length == 1 ? ys[0] : "value";
    Layout layout = Layout.builder(title, x, yTitle).height(HEIGHT).showLegend(ys.length > 1).build();
    return new Figure(layout, traces.toArray(Trace[]::new));
  }

  /**
   * Lines with markers of numeric columns {@code ys} against {@code x}, over a shaded band from column {@code lo} to
   * column {@code hi} (an interval around one of the lines, such as a 95 % bootstrap interval), named {@code band} in
   * the legend. The band is drawn first, so the lines sit on top.
   */
  public static Figure curvesWithBand(String title, Table t, String x, String lo, String hi, String band, String... ys) {
    requireColumns(t, x, lo, hi);
    requireColumns(t, ys);
    NumericColumn<?> xs = t.numberColumn(x);
    Line none = Line.builder().width(0).build();
    List<Trace> traces = new ArrayList<>();
    traces.add(ScatterTrace.builder(xs, t.numberColumn(lo)).mode(ScatterTrace.Mode.LINE).line(none).showLegend(false).name(lo).build());
    traces.add(ScatterTrace.builder(xs, t.numberColumn(hi)).mode(ScatterTrace.Mode.LINE).line(none).fill(ScatterTrace.Fill.TO_NEXT_Y)
        .fillColor(BAND_COLOR).name(band).build());
    for (String y : ys) traces.add(ScatterTrace.builder(xs, t.numberColumn(y)).mode(ScatterTrace.Mode.LINE_AND_MARKERS).name(y).build());
    Layout layout = Layout.builder(title, x, ys.length == 1 ? ys[0] : "value").height(HEIGHT).showLegend(true).build();
    return new Figure(layout, traces.toArray(Trace[]::new));
  }

  /** Fill of {@link #curvesWithBand}'s band: a light translucent blue. */
  private static final String BAND_COLOR = "rgba(99, 110, 250, 0.2)";

  /**
   * Histogram of log10 feature density (fraction of tokens on which each latent fires). Latents that never fired
   * have no logarithm; they are counted in the title ("dead") instead of the bars.
   */
  public static Figure featureDensity(double[] density) {
    double[] logs = Arrays.stream(density).filter(d -> d > 0).map(Math::log10).toArray();
    long dead = density.length - logs.length;
    String title = String.format("Feature density (%d latents, %d dead)", density.length, dead);
    Layout layout = Layout.builder(title, "log10 density", "latents").height(HEIGHT).build();
    return new Figure(layout, HistogramTrace.builder(logs).nBinsX(50).build());
  }

  /**
   * Activations of the most active latents over the tokens of one text: a heatmap with one row per latent and one
   * column per token. {@code acts} is {@code [tokens][latents]}; the {@code topLatents} latents with the largest
   * maximum activation are shown, strongest on top.
   */
  public static Figure tokenActivations(List<String> tokens, float[][] acts, int topLatents) {
    if (acts.length != tokens.size()) {
      throw new IllegalArgumentException("acts has " + acts.length + " rows but there are " + tokens.size() + " tokens");
    }
    int latents = acts.length == 0 ? 0 : acts[0].length;
    float[] max = new float[latents];
    Arrays.fill(max, Float.NEGATIVE_INFINITY);
    for (float[] row : acts) {
      if (row.length != latents) throw new IllegalArgumentException("ragged acts: rows of " + latents + " and " + row.length);
      for (int j = 0; j < latents; j++) max[j] = Math.max(max[j], row[j]);
    }
    int[] top = IntStream.range(0, latents).boxed()
        .sorted(Comparator.comparingDouble((Integer j) -> -max[j]).thenComparingInt(j -> j))
        .limit(topLatents).mapToInt(Integer::intValue).toArray();
    // Plotly draws row 0 at the bottom: put the strongest latent last so it appears on top.
    double[][] z = new double[top.length][tokens.size()];
    Object[] rows = new Object[top.length];
    for (int r = 0; r < top.length; r++) {
      int latent = top[top.length - 1 - r];
      rows[r] = "latent " + latent;
      for (int t = 0; t < tokens.size(); t++) z[r][t] = acts[t][latent];
    }
    // Token labels must be unique or plotly merges equal categories: prefix the position.
    Object[] cols = IntStream.range(0, tokens.size()).mapToObj(t -> t + ":" + tokens.get(t)).toArray();
    Layout layout = Layout.builder("Top " + top.length + " latents over the text", "token", "latent")
        .height(Math.max(HEIGHT, 60 + 22 * top.length))
        .xAxis(Axis.builder().title("token").type(Axis.Type.CATEGORY).build())
        .yAxis(Axis.builder().title("latent").type(Axis.Type.CATEGORY).build())
        .build();
    return new Figure(layout, HeatmapTrace.builder(cols, rows, z).build());
  }

  /**
   * An SAE's latents over the tokens of one sequence: encodes the activations {@code h} [T, d] that the model produced
   * on {@code ids} at the SAE's hook point (e.g. {@code ActivationSource.capture}) and draws
   * {@link #tokenActivations} with each token decoded on its own.
   */
  public static Figure latentsOverTokens(Tokenizer tok, long[] ids, SparseCoder sae, NDArray h, int topLatents) {
    if (h.getShape().dimension() != 2 || h.getShape().get(0) != ids.length) {
      throw new IllegalArgumentException("activations " + h.getShape() + " do not have one row per token (" + ids.length + " tokens)");
    }
    SparseCoder.TopK top = sae.encode(h); // [T, k] each
    float[] values = top.values().toFloatArray();
    long[] latent = top.indices().toLongArray();
    int k = sae.config().k();
    float[][] acts = new float[ids.length][sae.config().numLatents()]; // [T, m], zero where a latent is off
    List<String> tokens = new ArrayList<>();
    for (int t = 0; t < ids.length; t++) {
      for (int j = 0; j < k; j++) acts[t][(int) latent[t * k + j]] = values[t * k + j];
      tokens.add(tok.decode(new int[] {(int) ids[t]}).replace("\n", "\\n"));
    }
    top.values().close();
    top.indices().close();
    return tokenActivations(tokens, acts, topLatents);
  }

  /** A bar chart of named values (benchmark accuracies, timings, ...), in the map's iteration order. */
  public static Figure bars(String title, String yTitle, Map<String, ? extends Number> values) {
    Object[] names = values.keySet().toArray();
    double[] ys = values.values().stream().mapToDouble(Number::doubleValue).toArray();
    Layout layout = Layout.builder(title, "", yTitle).height(HEIGHT).build();
    return new Figure(layout, BarTrace.builder(names, ys).build());
  }

  /** Grouped bars: one group per row of {@code t} (labelled by {@code label}), one bar per value column. */
  public static Figure groupedBars(String title, Table t, String label, String... valueCols) {
    requireColumns(t, label);
    requireColumns(t, valueCols);
    Object[] names = t.column(label).asList().stream().map(String::valueOf).toArray();
    List<Trace> traces = new ArrayList<>();
    for (String c : valueCols) {
      traces.add(BarTrace.builder(names, t.numberColumn(c).asDoubleArray()).name(c).build());
    }
    Layout layout = Layout.builder(title, label, valueCols.length == 1 ? valueCols[0] : "")
        .height(HEIGHT).barMode(Layout.BarMode.GROUP).showLegend(valueCols.length > 1).build();
    return new Figure(layout, traces.toArray(Trace[]::new));
  }

  /**
   * Bars of {@code values} at positions {@code xs} with a fitted curve {@code (curveX, curveY)} drawn over them: a
   * histogram or per-layer count next to the density that models it (Figure 3's counts and their mixture).
   */
  public static Figure barsWithCurve(String title, String xTitle, String yTitle, double[] xs, double[] values,
      String barName, double[] curveX, double[] curveY, String curveName) {
    if (xs.length != values.length || curveX.length != curveY.length) {
      throw new IllegalArgumentException("bars: " + xs.length + " positions / " + values.length + " values; curve: "
          + curveX.length + " x / " + curveY.length + " y");
    }
    Trace bars = BarTrace.builder(Arrays.stream(xs).boxed().toArray(), values).name(barName).build();
    Trace curve = ScatterTrace.builder(curveX, curveY).mode(ScatterTrace.Mode.LINE).name(curveName).build();
    Layout layout = Layout.builder(title, xTitle, yTitle).height(HEIGHT).showLegend(true).build();
    return new Figure(layout, bars, curve);
  }

  /**
   * Estimates with their intervals against {@code x}: a line with markers through {@code y}, the interval
   * {@code [lo, hi]} as a shaded band, and one flat line per {@code references} entry (name: value), e.g. base's and
   * source's Pass@1. Rows where {@code y} is missing are left out.
   */
  public static Figure withIntervals(String title, Table t, String x, String y, String lo, String hi, Map<String, Double> references) {
    requireColumns(t, x, y, lo, hi);
    Table rows = t.dropWhere(t.numberColumn(y).isMissing());
    double[] xs = rows.numberColumn(x).asDoubleArray();
    List<Trace> traces = new ArrayList<>();
    traces.add(ScatterTrace.builder(xs, rows.numberColumn(lo).asDoubleArray()).mode(ScatterTrace.Mode.LINE).name(lo).opacity(0.3).build());
    traces.add(ScatterTrace.builder(xs, rows.numberColumn(hi).asDoubleArray()).mode(ScatterTrace.Mode.LINE).fill(ScatterTrace.Fill.TO_NEXT_Y)
        .name("95 % interval [" + lo + ", " + hi + "]").opacity(0.3).build());
    traces.add(ScatterTrace.builder(xs, rows.numberColumn(y).asDoubleArray()).mode(ScatterTrace.Mode.LINE_AND_MARKERS).name(y).build());
    double left = Arrays.stream(xs).min().orElse(0) - 0.5, right = Arrays.stream(xs).max().orElse(0) + 0.5;
    references.forEach((name, v) -> traces.add(ScatterTrace.builder(new double[] {left, right}, new double[] {v, v})
        .mode(ScatterTrace.Mode.LINE).name(name).build()));
    Layout layout = Layout.builder(title, x, y).height(HEIGHT).showLegend(true).build();
    return new Figure(layout, traces.toArray(Trace[]::new));
  }

  /**
   * Estimates with their intervals by category, one colour per group: a marker at {@code y} for each row (x: its
   * {@code label}) and a vertical segment from {@code lo} to {@code hi}, e.g. each arm's gain for two targets. Labels
   * should differ across groups, or the groups' markers overlap. Rows where {@code y} is missing are left out.
   */
  public static Figure intervalsByGroup(String title, Table t, String label, String group, String y, String lo, String hi) {
    requireColumns(t, label, group, y, lo, hi);
    Table rows = t.dropWhere(t.numberColumn(y).isMissing());
    List<Trace> traces = new ArrayList<>();
    List<String> groups = rows.column(group).asList().stream().map(String::valueOf).distinct().toList();
    for (int g = 0; g < groups.size(); g++) {
      String name = groups.get(g), color = PALETTE[g % PALETTE.length];
      Table part = rows.where(rows.stringColumn(group).isEqualTo(name));
      for (int i = 0; i < part.rowCount(); i++) {
        String x = String.valueOf(part.column(label).get(i));
        traces.add(ScatterTrace.builder(StringColumn.create("x", x, x), DoubleColumn.create("y", part.numberColumn(lo).getDouble(i), part.numberColumn(hi).getDouble(i)))
            .mode(ScatterTrace.Mode.LINE).line(Line.builder().color(color).width(3).build()).legendGroup(name).showLegend(false).name(name + " 95 % interval").build());
      }
      traces.add(ScatterTrace.builder(part.column(label), part.numberColumn(y)).mode(ScatterTrace.Mode.MARKERS)
          .marker(Marker.builder().color(color).size(10).build()).legendGroup(name).name(name).build());
    }
    Layout layout = Layout.builder(title, label, y).height(HEIGHT).showLegend(true).build();
    return new Figure(layout, traces.toArray(Trace[]::new));
  }

  /** Plotly's first colours, one per group of {@link #intervalsByGroup}. */
  private static final String[] PALETTE = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"};

  /**
   * A forest plot: one row per {@code label}, the estimate {@code y} as a marker and its interval {@code [lo, hi]} as a
   * horizontal bar, with a vertical line at {@code reference} (e.g. 0 for differences; NaN: none).
   */
  public static Figure forest(String title, Table t, String label, String y, String lo, String hi, double reference) {
    requireColumns(t, label, y, lo, hi);
    List<Trace> traces = new ArrayList<>();
    for (int i = 0; i < t.rowCount(); i++) {
      String name = t.getString(i, label);
      traces.add(ScatterTrace.builder(DoubleColumn.create("x", t.numberColumn(lo).getDouble(i), t.numberColumn(hi).getDouble(i)),
          StringColumn.create("y", name, name)).mode(ScatterTrace.Mode.LINE).name(name + " 95 %").showLegend(false).build());
    }
    traces.add(ScatterTrace.builder(t.numberColumn(y), t.column(label)).mode(ScatterTrace.Mode.MARKERS).name(y).build());
    if (!Double.isNaN(reference)) {
      traces.add(ScatterTrace.builder(DoubleColumn.create("x", reference, reference), StringColumn.create("y", t.getString(0, label),
          t.getString(t.rowCount() - 1, label))).mode(ScatterTrace.Mode.LINE).name("reference " + reference).build());
    }
    Layout layout = Layout.builder(title, y, label).height(Math.max(HEIGHT, 60 + 40 * t.rowCount())).showLegend(true).build();
    return new Figure(layout, traces.toArray(Trace[]::new));
  }

  /** Writes {@code figure} as a standalone HTML page with plotly.js inlined (works offline); atomic. */
  public static void saveHtml(Figure figure, Path path) throws IOException {
    String title = figure.getLayout() == null || figure.getLayout().getTitle() == null ? "figure" : figure.getLayout().getTitle();
    AtomicFiles.writeString(path, PlotlyJs.page(title, FigureJson.of(figure)));
  }

  private static void requireColumns(Table t, String... names) {
    for (String n : names) {
      if (!t.containsColumn(n)) {
        throw new IllegalArgumentException("table '" + t.name() + "' has no column '" + n + "'; columns: " + t.columnNames());
      }
    }
  }
}
