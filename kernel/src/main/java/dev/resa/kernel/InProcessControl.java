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
    Future<Object> f = workers.submit(() -> doit.invoke(null));
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

  /** Interrupts the running snippet's thread and returns control to the kernel at once. */
  void interrupt() {
    interrupted = true;
    Future<?> f = running.get();
    if (f != null) f.cancel(true);
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
