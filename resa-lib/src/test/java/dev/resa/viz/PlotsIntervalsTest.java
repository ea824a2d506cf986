package dev.resa.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

class PlotsIntervalsTest {
  @Test
  void bandLineAndReferencesSkipMissingRows() {
    Table t = Table.create("t", IntColumn.create("layer", 0, 1, 2), DoubleColumn.create("pass1", 0.5, 0.6, Double.NaN),
        DoubleColumn.create("lo", 0.4, 0.5, Double.NaN), DoubleColumn.create("hi", 0.6, 0.7, Double.NaN));
    Map<String, Double> refs = new LinkedHashMap<>();
    refs.put("base", 0.45);
    JsonNode data = FigureJson.tree(Plots.withIntervals("t", t, "layer", "pass1", "lo", "hi", refs)).get("data");
    assertEquals(4, data.size(), "lo, hi (filled to lo), estimate, one reference");
    assertEquals(2, data.get(2).get("y").size(), "the layer without a score is left out");
    assertEquals(0.6, data.get(2).get("y").get(1).asDouble(), 1e-12);
    assertEquals(0.7, data.get(1).get("y").get(1).asDouble(), 1e-12);
    assertEquals("tonexty", data.get(1).get("fill").asText());
    assertEquals(0.45, data.get(3).get("y").get(0).asDouble(), 1e-12);
    assertEquals(-0.5, data.get(3).get("x").get(0).asDouble(), 1e-12);
    assertEquals(1.5, data.get(3).get("x").get(1).asDouble(), 1e-12);
  }

  @Test
  void oneSegmentPerRowAndOneMarkerTracePerGroup() {
    Table t = Table.create("t", StringColumn.create("arm", "a (x)", "b (x)", "a (y)", "c (y)"), StringColumn.create("target", "x", "x", "y", "y"),
        DoubleColumn.create("gain", 0.1, Double.NaN, -0.05, 0.2), DoubleColumn.create("lo", 0.0, Double.NaN, -0.1, 0.15),
        DoubleColumn.create("hi", 0.2, Double.NaN, 0.0, 0.3));
    JsonNode data = FigureJson.tree(Plots.intervalsByGroup("t", t, "arm", "target", "gain", "lo", "hi")).get("data");
    assertEquals(5, data.size(), "x: one segment and its markers (b has no gain); y: two segments and its markers");
    assertEquals("a (x)", data.get(0).get("x").get(0).asText());
    assertEquals(0.0, data.get(0).get("y").get(0).asDouble(), 1e-12);
    assertEquals(0.2, data.get(0).get("y").get(1).asDouble(), 1e-12);
    assertEquals("x", data.get(1).get("name").asText());
    assertEquals(1, data.get(1).get("y").size());
    assertEquals(0.3, data.get(3).get("y").get(1).asDouble(), 1e-12);
    assertEquals(0.2, data.get(4).get("y").get(1).asDouble(), 1e-12);
    assertEquals(data.get(2).get("line").get("color").asText(), data.get(4).get("marker").get("color").asText(), "a group keeps one colour");
  }

  @Test
  void forestDrawsOneBarPerRowTheEstimatesAndTheReference() {
    Table t = Table.create("t", StringColumn.create("name", "resa - base", "source - base"), DoubleColumn.create("est", 0.02, 0.10),
        DoubleColumn.create("lo", -0.01, 0.05), DoubleColumn.create("hi", 0.05, 0.15));
    JsonNode data = FigureJson.tree(Plots.forest("t", t, "name", "est", "lo", "hi", 0)).get("data");
    assertEquals(4, data.size(), "two interval bars, the estimates, the reference line");
    assertEquals(-0.01, data.get(0).get("x").get(0).asDouble(), 1e-12);
    assertEquals(0.05, data.get(0).get("x").get(1).asDouble(), 1e-12);
    assertEquals("resa - base", data.get(0).get("y").get(0).asText());
    assertEquals("source - base", data.get(1).get("y").get(1).asText());
    assertEquals(0.10, data.get(2).get("x").get(1).asDouble(), 1e-12);
    assertEquals(0.0, data.get(3).get("x").get(0).asDouble(), 1e-12);
    assertEquals(3, FigureJson.tree(Plots.forest("t", t, "name", "est", "lo", "hi", Double.NaN)).get("data").size(), "NaN: no reference line");
  }
}
