package dev.resa.train;

import java.util.Map;
import java.util.ServiceLoader;

/**
 * Progress reporting for every long loop in the library (training, activation capture, evaluation).
 *
 * <p>{@link #start} asks the {@link Display} providers found by {@link ServiceLoader} first (the Jupyter kernel
 * registers one that updates a single notebook output in place); with none active it falls back to a terminal
 * progress bar on stderr, and {@code -Dresa.progress.off=true} silences both. Loops call {@link Bar#update} once per
 * step and {@link #checkInterrupted()} between steps, so a notebook interrupt stops training at the next step
 * boundary.
 */
public final class Progress {
  private Progress() {}

  /** A running progress display. Metrics are shown as given (loss, fvu, kl, ...). */
  public interface Bar extends AutoCloseable {
    void update(long step, Map<String, Double> metrics);

    @Override
    void close();
  }

  /** Service-provider interface: returns a bar, or null when this provider is not active (e.g. no notebook). */
  public interface Display {
    Bar open(String title, long totalSteps);
  }

  /** Opens a bar for a loop of {@code totalSteps} steps (0 when unknown). */
  public static Bar start(String title, long totalSteps) {
    if (Boolean.getBoolean("resa.progress.off")) return SILENT;
    for (Display d : ServiceLoader.load(Display.class)) {
      Bar b = d.open(title, totalSteps);
      if (b != null) return b;
    }
    return TerminalBar.open(title, totalSteps);
  }

  /** The bar used when {@code -Dresa.progress.off=true} (tests, batch jobs): shows nothing. */
  private static final Bar SILENT = new Bar() {
    @Override
    public void update(long step, Map<String, Double> metrics) {}

    @Override
    public void close() {}
  };

  /** Throws {@link TrainingInterruptedException} if the current thread was interrupted (clears the flag). */
  public static void checkInterrupted() {
    if (Thread.interrupted()) throw new TrainingInterruptedException();
  }

  /** Raised at a step boundary when the user interrupts a loop; state written so far stays valid. */
  public static final class TrainingInterruptedException extends RuntimeException {
    public TrainingInterruptedException() {
      super("interrupted by the user; stopped cleanly at a step boundary");
    }
  }
}
