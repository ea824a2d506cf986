package dev.resa.kernel;

import java.util.function.LongSupplier;

/**
 * Warms the JIT for JShell's compiler while the kernel sits idle after its first cell. Every cell runs javac, and a fresh
 * JVM runs javac interpreted or half-compiled for its first few dozen cells; compiling throwaway cells in a
 * separate, private {@link JShellEvaluator} gets the JIT to compile javac before the user's cells need it. The
 * user's JShell is not touched (no snippet ids, variables or classes of its own appear there).
 *
 * <p>It only works in quiet moments: a throwaway cell starts only when no user cell has run for {@link #QUIET_MS},
 * so a notebook run cell after cell ("Run All", nbconvert) never competes with it, and it stops after
 * {@link #CELLS} cells.
 */
final class CompilerWarmup implements Runnable {
  /** Throwaway cells to compile: about 7 s of CPU in all, JIT threads included; halves the CPU of the next 30 cells. */
  static final int CELLS = 48;
  /** Quiet time since the last user cell before a throwaway cell may start (ms). */
  static final long QUIET_MS = 500;

  /** Cell shapes notebooks use: expressions, declarations, methods, records, loops, collections, a compile error. */
  private static final String[] SHAPES = {
      "%d + 1",
      "int w%d = %d;",
      "w%d * 2 + 1",
      "String s%d = \"w\" + w%d;\ns%d.length()",
      "double mean%d(double[] xs) { double s = 0; for (double x : xs) s += x; return s / xs.length; }",
      "mean%d(new double[] {1, 2, w%d})",
      "record P%d(int a, double b) {}\nnew P%d(w%d, 0.5)",
      "var m%d = new HashMap<String, Integer>();\nfor (int i = 0; i < 3; i++) m%d.merge(\"k\" + i, i, Integer::sum);\nm%d",
      "List.of(1, 2, 3).stream().mapToInt(x -> x * w%d).sum()",
      "int bad%d = \"not an int\";",
  };

  private final LongSupplier lastActivity;
  private final int cells;
  /** Throwaway cells compiled so far, and how many of them were rejected. */
  private volatile int compiled, rejected;

  /**
   * @param lastActivity {@link System#nanoTime()} of the end of the last user cell; {@link Long#MAX_VALUE} while one
   *     runs, and before the first one ended (the kernel's first result must not wait for the warm-up)
   * @param cells throwaway cells to compile
   */
  CompilerWarmup(LongSupplier lastActivity, int cells) {
    this.lastActivity = lastActivity;
    this.cells = cells;
  }

  /** Starts the warm-up ({@link #CELLS} cells) on a daemon thread. */
  static void start(LongSupplier lastActivity) {
    Thread t = new Thread(new CompilerWarmup(lastActivity, CELLS), "resa-javac-warmup");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void run() {
    try {
      waitForQuiet();
      try (JShellEvaluator scratch = new JShellEvaluator()) {
        warm(scratch);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // a warm-up failure costs speed only; the user's evaluator is separate
    }
  }

  private void warm(JShellEvaluator scratch) throws InterruptedException {
    for (int i = 0; i < cells; i++) {
      waitForQuiet();
      String cell = SHAPES[i % SHAPES.length].replace("%d", String.valueOf(i / SHAPES.length));
      try {
        scratch.eval(cell);
      } catch (CellError e) {
        rejected++; // the compile-error shape warms the diagnostics path
      }
      compiled++;
    }
  }

  int compiled() {
    return compiled;
  }

  int rejected() {
    return rejected;
  }

  private void waitForQuiet() throws InterruptedException {
    while (true) {
      long last = lastActivity.getAsLong();
      long quietMs = last == Long.MAX_VALUE ? -1 : (System.nanoTime() - last) / 1_000_000;
      if (quietMs >= QUIET_MS) return;
      Thread.sleep(quietMs < 0 ? 100 : Math.max(10, QUIET_MS - quietMs));
    }
  }
}
