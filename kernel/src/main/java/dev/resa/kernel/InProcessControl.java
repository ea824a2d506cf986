package dev.resa.kernel;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import jdk.jshell.execution.DirectExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

/**
 * Runs snippets in this JVM on a worker thread, so results stay real objects (tables, figures, tensors) and an
 * interrupt can give control back at once.
 *
 * <p>JShell only passes strings back from execution; {@link #invoke} therefore stores each result in a map and
 * hands JShell the map key instead of {@code toString()}. Exceptions are remembered too, so the kernel can show the
 * original throwable with its causes.
 */
final class InProcessControl extends DirectExecutionControl {
  private final SnippetLoader loader;
  private final ExecutorService workers;
  private final Map<String, Object> results = new ConcurrentHashMap<>();
  private final AtomicLong keys = new AtomicLong();
  private final AtomicReference<Future<?>> running = new AtomicReference<>();
  /** The thread running the current snippet, while it runs (what an interrupt may have to stop). */
  private final AtomicReference<Run> runner = new AtomicReference<>();

  /**
   * One snippet's run on one thread; {@code done} once it ended. An interrupt watches this object, not the thread or
   * the latest run: the next cell may start (on another pooled thread, or later on the same one) before the
   * interrupted run has ended.
   */
  private static final class Run {
    final Thread thread = Thread.currentThread();
    volatile boolean done;
  }
  private volatile Throwable lastThrown;
  /** Set by an interrupt; makes every later snippet of the same cell stop before it starts. */
  private volatile boolean interrupted;

  InProcessControl(SnippetLoader loader) {
    super(loader);
    this.loader = loader;
    this.workers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "resa-cell");
      t.setDaemon(true);
      t.setContextClassLoader(loader.classLoader());
      return t;
    });
  }

  @Override
  protected String invoke(Method doit) throws Exception {
    if (interrupted) throw new InvocationTargetException(lastThrown = new CellInterrupted());
    Future<Object> f = workers.submit(() -> {
      Run me = new Run();
      runner.set(me); // from here on an interrupt sees this run
      try {
        if (interrupted) throw new CellInterrupted(); // it came before the run was visible
        return doit.invoke(null);
      } finally {
        synchronized (me) { // the watchdog stops a run only while holding it, so never once the run is done
          me.done = true;
        }
        runner.compareAndSet(me, null);
      }
    });
    running.set(f);
    if (interrupted) f.cancel(true); // an interrupt that raced with the submit
    try {
      Object value = f.get();
      String key = "\u0000resa-value-" + keys.incrementAndGet();
      if (value != null) results.put(key, value);
      return key;
    } catch (CancellationException e) {
      throw new InvocationTargetException(lastThrown = new CellInterrupted());
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() instanceof InvocationTargetException ite ? ite.getCause() : e.getCause();
      lastThrown = cause;
      throw new InvocationTargetException(cause);
    } finally {
      running.set(null);
    }
  }

  /** The real value behind a key JShell reported, or null (void statements, null values, unknown keys). */
  Object takeResult(String key) {
    return key == null ? null : results.remove(key);
  }

  /** Forgets every stored value (after each cell, so nothing leaks). */
  void clearResults() {
    results.clear();
  }

  /** The throwable of the last failed snippet, then forgets it. */
  Throwable takeLastThrown() {
    Throwable t = lastThrown;
    lastThrown = null;
    return t;
  }

  /**
   * Interrupts the running snippet's thread and returns control to the kernel at once. Code that ignores the
   * interrupt ({@code while (true) {}}) would keep burning a core, so a watchdog stops the thread if it is still in
   * that snippet after {@link #STOP_GRACE_MS}.
   */
  void interrupt() {
    interrupted = true;
    Run run = runner.get();
    Future<?> f = running.get();
    if (f != null) f.cancel(true);
    if (run != null) stopLater(run);
  }

  /** How long interrupted code gets to end by itself before its thread is stopped (ms). */
  static final long STOP_GRACE_MS = 500;

  /**
   * Stops {@code run}'s thread with {@link Thread#stop()} while it still runs the interrupted snippet. Thread.stop is deprecated
   * because the stopped code may leave objects half-updated; here it only hits notebook code the user asked to stop,
   * and it is the one way the JVM offers to end a loop that never checks for interrupts (it still works on JDK 17-19;
   * JDK 20+ throws UnsupportedOperationException, and then the thread keeps running, as before). Code that catches
   * ThreadDeath and loops on is stopped again, every 100 ms for 10 s.
   */
  @SuppressWarnings({"deprecation", "removal"})
  private void stopLater(Run run) {
    Thread watchdog = new Thread(() -> {
      try {
        for (int attempt = 0; attempt < 100; attempt++) {
          Thread.sleep(attempt == 0 ? STOP_GRACE_MS : 100);
          synchronized (run) {
            if (run.done) return;
            try {
              run.thread.stop();
            } catch (UnsupportedOperationException e) {
              return;
            }
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "resa-interrupt-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }

  /** True once the current cell was interrupted. */
  boolean interrupted() {
    return interrupted;
  }

  /** Starts a new cell: forgets an earlier interrupt. */
  void resetInterrupt() {
    interrupted = false;
  }

  @Override
  public void stop() {
    interrupt();
  }

  @Override
  public void close() {
    workers.shutdownNow();
    super.close();
  }

  /** Raised in place of a snippet's result when the user interrupted it. */
  static final class CellInterrupted extends RuntimeException {
    CellInterrupted() {
      super("interrupted by the user", null, false, false);
    }
  }

  /** Hands JShell one control bound to our loader, and keeps it for the evaluator. */
  static final class Provider implements ExecutionControlProvider {
    private final SnippetLoader loader;
    private volatile InProcessControl control;

    Provider(SnippetLoader loader) {
      this.loader = loader;
    }

    InProcessControl control() {
      return control;
    }

    @Override
    public String name() {
      return "resa-in-process";
    }

    @Override
    public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) {
      return control = new InProcessControl(loader);
    }
  }
}
