package dev.resa.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/** A one-line terminal progress bar with rate and ETA, redrawn at most a few times a second. */
final class TerminalBar implements Progress.Bar {
  private final String title;
  private final long total;
  private final PrintStream out = System.err;
  private final long startNanos = System.nanoTime();
  private final boolean interactive = System.console() != null;
  private long lastDraw;
  private long lastStep;
  private Map<String, Double> lastMetrics = Map.of();

  private TerminalBar(String title, long total) {
    this.title = title;
    this.total = total;
  }

  static TerminalBar open(String title, long total) {
    return new TerminalBar(title, total);
  }

  @Override
  public void update(long step, Map<String, Double> metrics) {
    lastStep = step;
    lastMetrics = metrics;
    long now = System.nanoTime();
    long interval = interactive ? 200_000_000L : 5_000_000_000L; // non-interactive logs stay short
    if (now - lastDraw >= interval || step == total) {
      lastDraw = now;
      draw(false);
    }
  }

  private void draw(boolean last) {
    double secs = (System.nanoTime() - startNanos) / 1e9;
    double rate = lastStep / Math.max(secs, 1e-9);
    StringBuilder sb = new StringBuilder();
    sb.append(title).append(' ');
    if (total > 0) {
      int width = 24;
      int filled = (int) Math.min(width, width * lastStep / total);
      sb.append('[').append("#".repeat(filled)).append("-".repeat(width - filled)).append("] ");
      sb.append(lastStep).append('/').append(total);
      double eta = rate > 0 ? (total - lastStep) / rate : 0;
      sb.append(String.format(Locale.ROOT, " %.1f it/s eta %s", rate, clock(eta)));
    } else {
      sb.append(lastStep).append(String.format(Locale.ROOT, " %.1f it/s", rate));
    }
    sb.append(" elapsed ").append(clock(secs));
    for (var e : lastMetrics.entrySet()) sb.append(String.format(Locale.ROOT, " %s=%.4g", e.getKey(), e.getValue()));
    if (interactive) {
      out.print("\r" + sb + (last ? "\n" : ""));
    } else {
      out.println(sb);
    }
    out.flush();
  }

  private static String clock(double secs) {
    long s = Math.round(secs);
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }

  @Override
  public void close() {
    draw(true);
  }
}
