package dev.resa.kernel;

import dev.resa.train.Progress;
import dev.resa.viz.MimeBundle;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;

/**
 * The notebook side of {@link Progress}: inside the kernel every {@code Progress.start(...)} opens ONE output
 * (display_data with a display id) that is updated in place (update_display_data) with a progress bar, the latest
 * metrics and a curve of the main metric (inline SVG, so it needs no script and shows in any viewer).
 *
 * <p>Updates are throttled by time ({@code -Dresa.progress.intervalMs}, default 500 ms); the final state is always
 * drawn on close. Outside a running cell this provider declines and the terminal bar is used.
 */
public final class NotebookProgress implements Progress.Display {
  private static final AtomicLong IDS = new AtomicLong();

  @Override
  public Progress.Bar open(String title, long totalSteps) {
    ResaKernel k = ResaKernel.current();
    if (k == null || !k.isExecuting()) return null;
    return new LiveBar(k, title, totalSteps, Long.getLong("resa.progress.intervalMs", 500));
  }

  /** One live output. Only the thread that runs the loop calls it. */
  static final class LiveBar implements Progress.Bar {
    private final ResaKernel kernel;
    private final String id = "resa-progress-" + ProcessHandle.current().pid() + "-" + IDS.incrementAndGet();
    private final TrainingView view;
    private final long intervalNanos;
    private long lastDraw = System.nanoTime();
    private boolean broken;

    LiveBar(ResaKernel kernel, String title, long total, long intervalMs) {
      this.kernel = kernel;
      this.view = new TrainingView(title, total);
      this.intervalNanos = intervalMs * 1_000_000L;
      publish(true);
    }

    @Override
    public void update(long step, Map<String, Double> metrics) {
      view.record(step, metrics);
      long now = System.nanoTime();
      if (now - lastDraw >= intervalNanos) {
        lastDraw = now;
        publish(false);
      }
    }

    @Override
    public void close() {
      view.finish();
      publish(false);
    }

    private void publish(boolean first) {
      if (broken) return;
      try {
        DisplayData d = Displays.toDisplayData(view.render());
        if (first) {
          d.setDisplayId(id);
          kernel.display(d);
        } else {
          kernel.getIO().display.updateDisplay(id, d);
        }
      } catch (RuntimeException e) {
        broken = true; // the cell ended (e.g. interrupted) while the loop still runs: stop drawing, keep training
      }
    }
  }

  /** The state of one loop and its HTML/text rendering. */
  static final class TrainingView {
    private static final int MAX_POINTS = 2000;
    private final String title;
    private final long total;
    private final long start = System.nanoTime();
    private final List<double[]> curve = new ArrayList<>(); // (step, main metric)
    private int stride = 1;
    private long calls;
    private long step;
    private Map<String, Double> metrics = Map.of();
    private String mainMetric;
    private boolean done;

    TrainingView(String title, long total) {
      this.title = title;
      this.total = total;
    }

    void record(long step, Map<String, Double> metrics) {
      this.step = step;
      this.metrics = new LinkedHashMap<>(metrics);
      if (mainMetric == null && !metrics.isEmpty()) {
        mainMetric = metrics.containsKey("loss") ? "loss" : metrics.keySet().iterator().next();
      }
      Double y = mainMetric == null ? null : metrics.get(mainMetric);
      if (y != null && Double.isFinite(y) && calls++ % stride == 0) {
        curve.add(new double[] {step, y});
        if (curve.size() > MAX_POINTS) { // keep every other point, record half as often from now on
          List<double[]> kept = new ArrayList<>();
          for (int i = 0; i < curve.size(); i += 2) kept.add(curve.get(i));
          curve.clear();
          curve.addAll(kept);
          stride *= 2;
        }
      }
    }

    void finish() {
      done = true;
    }

    MimeBundle render() {
      double secs = (System.nanoTime() - start) / 1e9;
      double rate = step / Math.max(secs, 1e-9);
      double frac = total > 0 ? Math.min(1, (double) step / total) : 0;
      String stepText = total > 0 ? step + "/" + total : String.valueOf(step);
      String timing = String.format(Locale.ROOT, "%.1f it/s, %s elapsed", rate, clock(secs))
          + (total > 0 && !done && rate > 0 ? ", eta " + clock((total - step) / rate) : "");
      StringBuilder metricText = new StringBuilder();
      metrics.forEach((k, v) -> metricText.append(String.format(Locale.ROOT, "  %s=%.4g", k, v)));

      String color = done ? "#2ca02c" : "#1f77b4";
      StringBuilder h = new StringBuilder("<div class=\"resa-progress\" style=\"font-family:sans-serif;font-size:13px;\">");
      h.append("<div><b>").append(esc(title)).append("</b> ").append(stepText).append(" &middot; ").append(timing)
          .append(done ? " &middot; done" : "").append("</div>");
      if (total > 0) {
        h.append("<div style=\"width:420px;height:12px;border:1px solid #bbb;border-radius:3px;margin:4px 0;\">")
            .append("<div style=\"height:100%;width:").append(String.format(Locale.ROOT, "%.1f", 100 * frac))
            .append("%;background:").append(color).append(";\"></div></div>");
      }
      if (!metrics.isEmpty()) h.append("<div><code>").append(esc(metricText.toString().strip())).append("</code></div>");
      if (curve.size() >= 2) h.append(svg());
      h.append("</div>");
      String bar = total > 0 ? "[" + "#".repeat((int) (24 * frac)) + "-".repeat(24 - (int) (24 * frac)) + "] " : "";
      String text = title + " " + bar + stepText + " " + timing + metricText + (done ? " done" : "");
      return MimeBundle.html(h.toString(), text);
    }

    /** The main metric against step as a small SVG line chart with min/max labels. */
    String svg() {
      int w = 420, hgt = 140, left = 56, right = 8, top = 16, bottom = 20;
      double x0 = curve.get(0)[0], x1 = curve.get(curve.size() - 1)[0];
      double y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
      for (double[] p : curve) {
        y0 = Math.min(y0, p[1]);
        y1 = Math.max(y1, p[1]);
      }
      if (y1 - y0 < 1e-12) { y0 -= 0.5; y1 += 0.5; }
      if (x1 - x0 < 1e-12) x1 = x0 + 1;
      StringBuilder pts = new StringBuilder();
      for (double[] p : curve) {
        double x = left + (p[0] - x0) / (x1 - x0) * (w - left - right);
        double y = top + (1 - (p[1] - y0) / (y1 - y0)) * (hgt - top - bottom);
        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
      }
      return String.format(Locale.ROOT,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" style=\"display:block\">"
              + "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#ccc\"/>"
              + "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"%s\"/>"
              + "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.4g</text>"
              + "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.4g</text>"
              + "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>"
              + "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">step %d</text></svg>",
          w, hgt, left, top, w - left - right, hgt - top - bottom, pts.toString().strip(),
          left - 4, top + 10, y1, left - 4, hgt - bottom, y0, left + 4, top - 4, esc(mainMetric),
          w - right, hgt - 4, (long) x1);
    }

    private static String clock(double secs) {
      long s = Math.round(secs);
      return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
          : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    private static String esc(String s) {
      return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
  }
}
