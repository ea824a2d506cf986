package dev.resa.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resa.viz.MimeBundle;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The live training output: bar, metrics, and a loss curve that stays small however long the run. */
class TrainingViewTest {
  @Test
  void rendersProgressMetricsAndCurve() {
    NotebookProgress.TrainingView v = new NotebookProgress.TrainingView("sae <1>", 100);
    for (int s = 1; s <= 50; s++) v.record(s, Map.of("loss", 1.0 / s, "l0", 32.0));
    MimeBundle b = v.render();
    String html = b.data().get(MimeBundle.HTML);
    assertTrue(html.contains("sae &lt;1&gt;"), "title is escaped");
    assertTrue(html.contains("50/100"));
    assertTrue(html.contains("width:50.0%"), "bar half full");
    assertTrue(html.contains("<polyline"), "loss curve drawn");
    assertTrue(b.data().get(MimeBundle.TEXT).contains("[############------------] 50/100"), b.data().get(MimeBundle.TEXT));
    v.finish();
    assertTrue(v.render().data().get(MimeBundle.TEXT).endsWith("done"));
  }

  @Test
  void curveKeepsABoundedNumberOfPointsSpanningTheRun() {
    NotebookProgress.TrainingView v = new NotebookProgress.TrainingView("long", 0);
    for (int s = 1; s <= 100_000; s++) v.record(s, Map.of("loss", (double) s));
    String svg = v.svg();
    Matcher m = Pattern.compile("points=\"([^\"]*)\"").matcher(svg);
    assertTrue(m.find());
    int points = m.group(1).split(" ").length;
    assertTrue(points > 500 && points <= 2000, "points kept: " + points);
    assertTrue(svg.contains("step 99"), "x axis reaches the end of the run: " + svg.substring(svg.length() - 120));
    assertEquals(1, svg.split("<polyline", -1).length - 1);
  }
}
