package dev.resa.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.components.Figure;

/** Tablesaw figures become strict plotly.js JSON with object titles and numeric data. */
class FigureJsonTest {
  private static Table training() {
    return Table.create("run", IntColumn.create("step", 1, 2, 3), DoubleColumn.create("loss", 0.5, 0.25, 0.125),
        DoubleColumn.create("kl", 0.2, 0.1, 0.05));
  }

  private static JsonObject json(Figure f) {
    return JsonParser.parseString(FigureJson.of(f)).getAsJsonObject(); // strict parser: must be valid JSON
  }

  @Test
  void lossCurvesHaveOneScatterTracePerMetricWithNumbers() {
    JsonObject fig = json(Plots.loss(training()));
    JsonArray data = fig.getAsJsonArray("data");
    assertEquals(2, data.size());
    JsonObject loss = data.get(0).getAsJsonObject();
    assertEquals("scatter", loss.get("type").getAsString());
    assertEquals("loss", loss.get("name").getAsString());
    assertEquals(List.of(1.0, 2.0, 3.0), numbers(loss.getAsJsonArray("x")));
    assertEquals(List.of(0.5, 0.25, 0.125), numbers(loss.getAsJsonArray("y")));
    assertEquals(List.of(0.2, 0.1, 0.05), numbers(data.get(1).getAsJsonObject().getAsJsonArray("y")));
  }

  @Test
  void titlesAreObjectsForPlotly3AndLater() {
    JsonObject layout = json(Plots.fvu(Table.create("t", IntColumn.create("step", 1, 2),
        DoubleColumn.create("fvu", 0.3, 0.2)))).getAsJsonObject("layout");
    assertEquals("Fraction of variance unexplained", layout.getAsJsonObject("title").get("text").getAsString());
    assertEquals("step", layout.getAsJsonObject("xaxis").getAsJsonObject("title").get("text").getAsString());
    assertEquals("fvu", layout.getAsJsonObject("yaxis").getAsJsonObject("title").get("text").getAsString());
  }

  @Test
  void featureDensityIsAHistogramOfLog10WithDeadLatentsCounted() {
    JsonObject fig = json(Plots.featureDensity(new double[] {0.1, 0.01, 0, 1e-4, 0}));
    JsonObject trace = fig.getAsJsonArray("data").get(0).getAsJsonObject();
    assertEquals("histogram", trace.get("type").getAsString());
    List<Double> x = numbers(trace.getAsJsonArray("x"));
    assertEquals(List.of(-1.0, -2.0, -4.0), x.stream().map(v -> Math.rint(v * 1e9) / 1e9).toList());
    assertTrue(fig.getAsJsonObject("layout").getAsJsonObject("title").get("text").getAsString().contains("2 dead"));
  }

  @Test
  void tokenHeatmapShowsTheStrongestLatentsOnTop() {
    // 3 tokens x 4 latents; max activations: latent0 0.1, latent1 5, latent2 0, latent3 2
    float[][] acts = {{0.1f, 5f, 0f, 0f}, {0f, 1f, 0f, 2f}, {0f, 0f, 0f, 1f}};
    JsonObject trace = json(Plots.tokenActivations(List.of("the", "cat", "the"), acts, 2))
        .getAsJsonArray("data").get(0).getAsJsonObject();
    assertEquals("heatmap", trace.get("type").getAsString());
    assertEquals(List.of("0:the", "1:cat", "2:the"), strings(trace.getAsJsonArray("x")), "unique token labels");
    assertEquals(List.of("latent 3", "latent 1"), strings(trace.getAsJsonArray("y")), "strongest latent last = on top");
    JsonArray z = trace.getAsJsonArray("z");
    assertEquals(List.of(0.0, 2.0, 1.0), numbers(z.get(0).getAsJsonArray()));
    assertEquals(List.of(5.0, 1.0, 0.0), numbers(z.get(1).getAsJsonArray()));
  }

  @Test
  void barsKeepTheMapOrder() {
    Map<String, Double> acc = new LinkedHashMap<>();
    acc.put("base", 0.40);
    acc.put("resa", 0.47);
    JsonObject trace = json(Plots.bars("Accuracy", "pass@1", acc)).getAsJsonArray("data").get(0).getAsJsonObject();
    assertEquals("bar", trace.get("type").getAsString());
    assertEquals(List.of("base", "resa"), strings(trace.getAsJsonArray("x")));
    assertEquals(List.of(0.40, 0.47), numbers(trace.getAsJsonArray("y")));
  }

  @Test
  void barsWithCurveDrawTheCountsAndTheFittedLineOverThem() {
    JsonArray data = json(Plots.barsWithCurve("Figure 3", "layer", "features", new double[] {0, 1, 2}, new double[] {4, 0, 2}, "counts",
        new double[] {-0.5, 1, 2.5}, new double[] {1, 2, 3}, "mixture")).getAsJsonArray("data");
    JsonObject bars = data.get(0).getAsJsonObject(), line = data.get(1).getAsJsonObject();
    assertEquals("bar", bars.get("type").getAsString());
    assertEquals(List.of(4.0, 0.0, 2.0), numbers(bars.getAsJsonArray("y")));
    assertEquals("scatter", line.get("type").getAsString());
    assertEquals(List.of(-0.5, 1.0, 2.5), numbers(line.getAsJsonArray("x")));
    assertEquals("mixture", line.get("name").getAsString());
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Plots.barsWithCurve("t", "x", "y",
        new double[] {0, 1}, new double[] {1}, "b", new double[0], new double[0], "c"));
    assertTrue(e.getMessage().contains("2 positions / 1 values"), e.getMessage());
  }

  @Test
  void nonNumericStringsStayStrings() {
    JsonObject trace = json(Plots.bars("b", "v", Map.of("1e3x", 1.0))).getAsJsonArray("data").get(0).getAsJsonObject();
    assertFalse(trace.getAsJsonArray("x").get(0).getAsJsonPrimitive().isNumber());
  }

  @Test
  void missingColumnsAreNamed() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> Plots.l0(training()));
    assertTrue(e.getMessage().contains("'l0'") && e.getMessage().contains("loss"), e.getMessage());
  }

  @Test
  void aBandIsTwoEdgeTracesTheSecondFilledToTheFirstThenTheLines() {
    Table t = Table.create("sweep", IntColumn.create("k", 0, 2, 8), DoubleColumn.create("p", 0.4, 0.5, 0.45),
        DoubleColumn.create("lo", 0.3, 0.42, 0.35), DoubleColumn.create("hi", 0.5, 0.58, 0.55), DoubleColumn.create("q", 0.1, 0.2, 0.3));
    JsonArray data = json(Plots.curvesWithBand("sweep", t, "k", "lo", "hi", "95 % interval", "p", "q")).getAsJsonArray("data");
    assertEquals(4, data.size(), "lo edge, hi edge, two lines");
    JsonObject lo = data.get(0).getAsJsonObject(), hi = data.get(1).getAsJsonObject();
    assertEquals(List.of(0.3, 0.42, 0.35), numbers(lo.getAsJsonArray("y")));
    assertFalse(lo.get("showlegend").getAsBoolean(), "the lower edge has no legend entry");
    assertEquals(List.of(0.5, 0.58, 0.55), numbers(hi.getAsJsonArray("y")));
    assertEquals("tonexty", hi.get("fill").getAsString(), "the upper edge fills down to the lower");
    assertEquals("95 % interval", hi.get("name").getAsString());
    assertEquals("p", data.get(2).getAsJsonObject().get("name").getAsString());
    assertEquals(List.of(0.1, 0.2, 0.3), numbers(data.get(3).getAsJsonObject().getAsJsonArray("y")));
    assertEquals("lines+markers", data.get(3).getAsJsonObject().get("mode").getAsString());
  }

  private static List<Double> numbers(JsonArray a) {
    return a.asList().stream().map(e -> e.getAsJsonPrimitive().getAsDouble()).toList();
  }

  private static List<String> strings(JsonArray a) {
    return a.asList().stream().map(e -> e.getAsString()).toList();
  }
}
