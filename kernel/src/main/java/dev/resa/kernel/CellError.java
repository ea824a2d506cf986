package dev.resa.kernel;

import java.util.List;

/**
 * A cell that failed. The subclass name is what Jupyter shows as the error name ({@code ename}), the message its
 * short form ({@code evalue}), and {@link #report()} the traceback: the offending line with a caret for compile
 * errors, the exception and the notebook's frames for runtime errors.
 */
public abstract sealed class CellError extends RuntimeException {
  private final List<String> report;

  CellError(String message, List<String> report) {
    super(message, null, false, false);
    this.report = List.copyOf(report);
  }

  /** Traceback lines (no newlines inside). */
  public List<String> report() {
    return report;
  }

  /** The cell did not compile. */
  public static final class CompileError extends CellError {
    CompileError(String message, List<String> report) {
      super(message, report);
    }
  }

  /** The cell threw; the message is the exception's {@code toString()}. */
  public static final class Exception extends CellError {
    Exception(String message, List<String> report) {
      super(message, report);
    }
  }

  /** The user interrupted the cell. */
  public static final class Interrupted extends CellError {
    Interrupted(String message, List<String> report) {
      super(message, report);
    }
  }

  /** A {@code %magic} line was wrong (unknown magic, missing file, ...). */
  public static final class MagicError extends CellError {
    MagicError(String message) {
      super(message, List.of(message));
    }
  }
}
