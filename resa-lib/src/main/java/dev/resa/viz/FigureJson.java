package dev.resa.viz;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import tech.tablesaw.plotly.components.Figure;
import tech.tablesaw.plotly.traces.Trace;

/**
 * Converts a Tablesaw {@link Figure} into plotly.js figure JSON ({@code {"data": [...], "layout": {...}}}).
 *
 * <p>Tablesaw renders figures as JavaScript object literals (unquoted keys, single quotes, trailing commas, numbers
 * as strings), written for plotly.js 1.x. This reads them leniently and fixes two things for plotly.js 4: string
 * titles become {@code {"text": ...}} objects (plain strings are ignored since plotly.js 3), and numeric strings in
 * data arrays become numbers (so axes are linear, not categorical).
 */
public final class FigureJson {
  private FigureJson() {}

  private static final JsonMapper LENIENT = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_UNQUOTED_FIELD_NAMES, JsonReadFeature.ALLOW_SINGLE_QUOTES,
          JsonReadFeature.ALLOW_TRAILING_COMMA, JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS,
          JsonReadFeature.ALLOW_JAVA_COMMENTS)
      .build();
  private static final List<String> DATA_KEYS = List.of("x", "y", "z", "text");

  /** The figure as plotly.js JSON text. */
  public static String of(Figure figure) {
    return tree(figure).toString();
  }

  /** The figure as a Jackson tree: {@code data} (one object per trace) and {@code layout}. */
  public static ObjectNode tree(Figure figure) {
    ObjectNode root = LENIENT.createObjectNode();
    ArrayNode data = root.putArray("data");
    Trace[] traces = figure.getTraces();
    for (int i = 0; i < traces.length; i++) {
      ObjectNode trace = (ObjectNode) parseAssignment(traces[i].asJavascript(i), "trace " + i);
      numericArrays(trace);
      data.add(trace);
    }
    JsonNode layout = figure.getLayout() == null ? LENIENT.createObjectNode()
        : parseAssignment(figure.getLayout().asJavascript(), "layout");
    objectTitles(layout);
    root.set("layout", layout);
    return root;
  }

  /** Parses {@code var name = {...};} into the object literal. */
  static JsonNode parseAssignment(String js, String what) {
    int eq = js.indexOf('=');
    int end = js.lastIndexOf(';');
    String literal = js.substring(eq + 1, end > eq ? end : js.length()).trim();
    try {
      return LENIENT.readTree(literal);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot read Tablesaw's JavaScript for the " + what + ": "
          + e.getOriginalMessage() + "\n" + js, e);
    }
  }

  /** Rewrites every {@code "title": "x"} (at any depth) into {@code "title": {"text": "x"}}. */
  static void objectTitles(JsonNode node) {
    if (node instanceof ObjectNode obj) {
      JsonNode title = obj.get("title");
      if (title != null && title.isTextual()) obj.putObject("title").put("text", title.asText());
      for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) objectTitles(it.next().getValue());
    } else if (node instanceof ArrayNode arr) {
      for (JsonNode child : arr) objectTitles(child);
    }
  }

  /** Replaces data arrays whose entries are all numeric strings with number arrays (nested arrays too). */
  static void numericArrays(ObjectNode trace) {
    for (String key : DATA_KEYS) {
      JsonNode values = trace.get(key);
      if (values instanceof ArrayNode arr && !key.equals("text")) trace.set(key, numeric(arr));
    }
  }

  private static ArrayNode numeric(ArrayNode arr) {
    List<Double> parsed = new ArrayList<>();
    boolean allNumbers = true;
    ArrayNode out = arr.arrayNode();
    for (JsonNode v : arr) {
      if (v.isArray()) {
        out.add(numeric((ArrayNode) v));
        allNumbers = false;
        continue;
      }
      out.add(v);
      if (v.isNumber()) {
        parsed.add(v.asDouble());
      } else if (v.isTextual() && isNumber(v.asText())) {
        parsed.add(Double.parseDouble(v.asText()));
      } else {
        allNumbers = false;
      }
    }
    if (!allNumbers || parsed.size() != arr.size()) return out;
    ArrayNode nums = arr.arrayNode();
    for (double d : parsed) {
      if (Double.isFinite(d)) nums.add(d); else nums.addNull();
    }
    return nums;
  }

  private static boolean isNumber(String s) {
    try {
      Double.parseDouble(s);
      return !s.isBlank();
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
