package dev.resa.eval;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Answer checking with a time limit per comparison, so one pathological expression cannot hang an evaluation:
 * comparisons run on a daemon worker thread; one that overruns counts as "not equal" and the worker is
 * abandoned (a fresh one takes over).
 */
public final class Grader {
  /** Default limit per comparison: math-verify's default is 5 s; ours evaluate in microseconds. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  private final Duration timeout;
  private final Equivalence.Options options;
  private ExecutorService worker = newWorker();
  private long timeouts;

  public Grader() {
    this(DEFAULT_TIMEOUT);
  }

  public Grader(Duration timeout) {
    this(timeout, Equivalence.Options.DEFAULT);
  }

  /** A grader with its own precision ({@code floatRounding}) and strictness; see {@link Equivalence.Options}. */
  public Grader(Duration timeout, Equivalence.Options options) {
    this.timeout = timeout;
    this.options = options;
  }

  /** Whether {@code pred} equals {@code ref}; false on timeout or on any failure inside the checker. */
  public synchronized boolean equal(String pred, String ref) {
    Future<Boolean> f = worker.submit(() -> Equivalence.equal(pred, ref, options));
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      worker.shutdownNow();
      worker = newWorker();
      timeouts++;
      return false;
    } catch (ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Whether {@code pred} equals any of the accepted references (math-verify aggregates golds with max). */
  public boolean equalAny(String pred, List<String> refs) {
    for (String r : refs) if (equal(pred, r)) return true;
    return false;
  }

  /** Comparisons that hit the time limit so far. */
  public synchronized long timeouts() {
    return timeouts;
  }

  private static ExecutorService newWorker() {
    return Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "resa-grader");
      t.setDaemon(true);
      return t;
    });
  }
}
