package dev.resa.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/** The renderer registry, the Tablesaw renderers and the offline HTML pages. */
class RenderingTest {
  @Test
  void tablesRenderAsAnHtmlHeadWithTheRowCount() {
    Table t = Table.create("scores", StringColumn.create("name"), DoubleColumn.create("acc"));
    for (int i = 0; i < 25; i++) {
      t.stringColumn("name").append("m<" + i + ">");
      t.doubleColumn("acc").append(i / 100.0);
    }
    MimeBundle b = Rendering.render(t);
    assertNotNull(b, "Table is rendered through the ServiceLoader-registered TablesawRenderer");
    String html = b.data().get(MimeBundle.HTML);
    assertEquals(2 * TablesawRenderer.HEAD_ROWS, html.split("<td", -1).length - 1, "head rows only (2 cells each)");
    assertTrue(html.contains("25 rows × 2 columns (first 10 shown)"), html);
    assertTrue(html.contains("m&lt;3&gt;"), "cells are HTML-escaped");
    assertTrue(b.data().get(MimeBundle.TEXT).contains("25 rows × 2 columns"));
  }

  @Test
  void floatingPointCellsShowFourSignificantDigitsAndTheDataKeepsAll() {
    Table t = Table.create("scores", StringColumn.create("model"), DoubleColumn.create("pass1"));
    t.stringColumn("model").append("base").append("resa").append("tiny").append("none");
    t.doubleColumn("pass1").append(1 / 12.0).append(2.0).append(1.23456e-7).appendMissing();
    MimeBundle b = Rendering.render(t);
    String html = b.data().get(MimeBundle.HTML);
    assertTrue(html.contains(">0.08333<"), html);
    assertTrue(html.contains(">2<"), html);
    assertTrue(html.contains(">1.235E-7<"), html);
    assertTrue(!html.contains("0.0833333"), "no unrounded digits in the HTML");
    String text = b.data().get(MimeBundle.TEXT);
    assertTrue(text.contains("0.08333") && !text.contains("0.0833333"), text);
    assertEquals(1 / 12.0, t.doubleColumn("pass1").get(0), 0, "the table keeps full precision");
  }

  @Test
  void figuresCarryPlotlyJsonHtmlAndText() {
    MimeBundle b = Rendering.render(Plots.bars("Speed", "tok/s", Map.of("java", 1.0)));
    assertNotNull(b);
    assertTrue(b.data().get(MimeBundle.PLOTLY).startsWith("{\"data\":"));
    assertTrue(b.data().get(MimeBundle.HTML).contains("Plotly.newPlot"));
    assertEquals("Plotly figure \"Speed\": 1 trace", b.data().get(MimeBundle.TEXT));
  }

  @Test
  void renderablesRenderThemselvesAndUnknownTypesAreLeftToTheCaller() {
    Renderable r = () -> MimeBundle.text("me");
    assertEquals("me", Rendering.render(r).data().get(MimeBundle.TEXT));
    assertNull(Rendering.render(42));
    MimeBundle html = MimeBundle.html("<b>x</b>", "x");
    assertEquals(html, Rendering.render(html), "a ready bundle is shown as is");
  }

  @Test
  void savedPagesInlinePlotly(@TempDir Path dir) throws Exception {
    Path page = dir.resolve("chart.html");
    Plots.saveHtml(Plots.bars("Accuracy", "y", Map.of("x", 1.0)), page);
    String html = Files.readString(page);
    assertTrue(html.length() > 1_000_000, "plotly.js (~1.5 MB) is inlined, so the page works offline");
    assertTrue(html.contains("(function(define, module, exports){"), "AMD/CommonJS shield around plotly.js");
    assertEquals(3, html.split("</script>", -1).length - 1, "figure script, library, queue flush");
  }

  @Test
  void figureJsonCannotEndItsScriptElement() {
    String html = PlotlyJs.figureHtml("{\"data\":[],\"layout\":{\"title\":{\"text\":\"a </script> b\"}}}", false);
    assertEquals(1, html.split("</script>", -1).length - 1, "only the figure's own script element closes");
    assertTrue(html.contains("a <\\/script> b"));
  }

  @Test
  void thePlotlyBundleAndItsLicenseShipTogether() throws Exception {
    assertTrue(PlotlyJs.source().contains("plotly"));
    try (var in = PlotlyJs.class.getResourceAsStream("/dev/resa/viz/plotly/LICENSE")) {
      assertNotNull(in, "plotly.js LICENSE next to the bundle");
      assertTrue(new String(in.readAllBytes()).contains("MIT"));
    }
  }
}
