package dev.resa.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** An interrupted cell that never checks for interrupts still ends: its thread is stopped after a grace period. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InterruptTest {
  private final JShellEvaluator ev = new JShellEvaluator();

  @AfterAll
  void close() {
    ev.close();
  }

  private static long spinningCellThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("resa-cell") && t.getState() == Thread.State.RUNNABLE).count();
  }

  private static String spinning() {
    StringBuilder s = new StringBuilder();
    Thread.getAllStackTraces().forEach((t, frames) -> {
      if (t.getName().equals("resa-cell") && t.getState() == Thread.State.RUNNABLE) {
        s.append(t).append('\n');
        for (int i = 0; i < Math.min(8, frames.length); i++) s.append("    at ").append(frames[i]).append('\n');
      }
    });
    return s.toString();
  }

  private void interruptAndExpectStop(String loop) throws Exception {
    CompletableFuture<Throwable> cell = CompletableFuture.supplyAsync(() -> {
      try {
        ev.startCell();
        ev.evalCell(loop, "cell", 1);
        return null;
      } catch (Throwable t) {
        return t;
      }
    });
    long t0 = System.nanoTime();
    while (spinningCellThreads() == 0 && System.nanoTime() - t0 < 30e9) Thread.sleep(20);
    Thread.sleep(200);
    ev.interrupt();
    assertInstanceOf(CellError.Interrupted.class, cell.get(10, TimeUnit.SECONDS));
    long stop = System.nanoTime();
    int quiet = 0; // a stopped thread passes through RUNNABLE once more while its task ends: wait for 5 quiet polls
    while (quiet < 5 && System.nanoTime() - stop < 10e9) {
      quiet = spinningCellThreads() == 0 ? quiet + 1 : 0;
      Thread.sleep(20);
    }
    assertEquals(5, quiet, () -> "a cell thread still runs " + loop + ": " + spinning());
    assertTrue((System.nanoTime() - stop) / 1e9 < 5, "stopped within 5 s");
  }

  @Test
  void emptyTightLoopEnds() throws Exception {
    interruptAndExpectStop("while (true) {}");
    assertEquals(42, ev.eval("6 * 7"));
  }

  @Test
  void loopCallingTheLibraryEndsAndTheNextCellIsUntouched() throws Exception {
    interruptAndExpectStop("while (true) { Math.sqrt(System.nanoTime()); }");
    // the next cell starts at once, on another pooled thread, while the watchdog may still be looking
    assertEquals(42, ev.eval("Thread.sleep(1500); 6 * 7"));
  }
}
