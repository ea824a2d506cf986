package dev.resa.viz;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Offline plotly.js: the bundle fetched from npm at build time ({@code dev/resa/viz/plotly/plotly.min.js}) and the
 * HTML that draws one figure with it.
 *
 * <p>In a notebook the library is inlined once per kernel session (the first figure's output carries it); later
 * figures queue their draw call until {@code window.Plotly} exists. The inlined bundle is wrapped in a function
 * whose {@code define}, {@code module} and {@code exports} parameters are undefined, so the UMD header sets
 * {@code window.Plotly} even on pages with require.js (classic Notebook, nbconvert's HTML export).
 */
public final class PlotlyJs {
  private PlotlyJs() {}

  static final String RESOURCE = "/dev/resa/viz/plotly/plotly.min.js";
  private static final AtomicBoolean INLINED = new AtomicBoolean();
  private static final AtomicLong IDS = new AtomicLong();
  private static volatile String source;

  /** The minified plotly.js bundle; fails with a clear message when the build did not fetch it. */
  public static String source() {
    String s = source;
    if (s == null) {
      try (InputStream in = PlotlyJs.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("plotly.js is missing from the classpath (" + RESOURCE + "): it is fetched "
              + "from npm at build time; rebuild resa-lib with `mvn -B -pl resa-lib package` and npm installed");
        }
        source = s = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return s;
  }

  /** A {@code <script>} that defines {@code window.Plotly} and then runs every queued draw call. */
  public static String libraryScript() {
    return "<script type=\"text/javascript\">(function(define, module, exports){\n" + source()
        + "\n}).call(window);</script>\n"
        + "<script type=\"text/javascript\">(window.__resaPlotlyQueue||[]).splice(0).forEach(function(f){f();});</script>\n";
  }

  /**
   * The HTML for one figure. With {@code inlineLibrary} the output is self-contained; otherwise it relies on an
   * earlier output (or page element) having loaded plotly.js.
   */
  public static String figureHtml(String figureJson, boolean inlineLibrary) {
    String id = "resa-plot-" + ProcessHandle.current().pid() + "-" + IDS.incrementAndGet();
    String draw = "<div id=\"" + id + "\" class=\"plotly-graph-div\" style=\"width:100%;\"></div>\n"
        + "<script type=\"text/javascript\">(function(){var fig=" + scriptSafe(figureJson) + ";"
        + "function draw(){window.Plotly.newPlot(\"" + id + "\",fig.data,fig.layout||{},"
        + "Object.assign({responsive:true,displaylogo:false},fig.config||{}));}"
        + "if(window.Plotly){draw();}else{(window.__resaPlotlyQueue=window.__resaPlotlyQueue||[]).push(draw);}"
        + "})();</script>\n";
    return inlineLibrary ? draw + libraryScript() : draw;
  }

  /** Figure HTML for a notebook: the library is inlined with the first figure of this JVM (the kernel session). */
  public static String notebookFigureHtml(String figureJson) {
    return figureHtml(figureJson, INLINED.compareAndSet(false, true));
  }

  /** A standalone offline page showing one figure. */
  public static String page(String title, String figureJson) {
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escapeHtml(title) + "</title></head>\n"
        + "<body style=\"font-family:sans-serif;margin:16px;\">\n" + figureHtml(figureJson, true) + "</body></html>\n";
  }

  /** JSON made safe to embed in a script element. */
  static String scriptSafe(String json) {
    return json.replace("</", "<\\/").replace("<!--", "<\\!--");
  }

  static String escapeHtml(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
