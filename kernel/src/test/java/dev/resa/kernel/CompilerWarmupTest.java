package dev.resa.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The background javac warm-up: waits while cells run, compiles its cells, leaves the user's JShell alone. */
public class CompilerWarmupTest {
  @Test
  void waitsForQuietThenCompilesEveryShapeInItsOwnJShell() throws Exception {
    try (JShellEvaluator user = new JShellEvaluator()) {
      AtomicLong lastActivity = new AtomicLong(Long.MAX_VALUE); // a user cell is running
      int cells = 10; // one round of every shape
      CompilerWarmup warmup = new CompilerWarmup(lastActivity::get, cells);
      Thread t = new Thread(warmup, "warmup-under-test");
      t.setDaemon(true);
      t.start();
      Thread.sleep(3 * CompilerWarmup.QUIET_MS);
      assertEquals(0, warmup.compiled(), "warm-up ran while a user cell was running");

      lastActivity.set(System.nanoTime()); // the cell ended
      t.join(120_000);
      assertEquals(cells, warmup.compiled());
      assertEquals(1, warmup.rejected(), "only the deliberate compile error may fail");
      // its declarations (w0, mean0, P0, ...) never reach the user's JShell
      assertThrows(CellError.CompileError.class, () -> user.eval("w0"));
      assertEquals(2, user.eval("1 + 1"));
    }
  }
}
