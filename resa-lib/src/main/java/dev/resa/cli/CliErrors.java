package dev.resa.cli;

import com.google.gson.JsonParseException;
import dev.resa.train.Progress;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * How {@code ./resa} reports a failure, for every command in one place (commands just throw).
 *
 * <p>A user error prints one line, {@code resa <command>: <message>}, where the library's message names the file,
 * line, key or option, and exits non-zero: 2 for a bad command line (unknown option, bad option value, missing
 * required option), 1 for bad input found while running (missing or malformed file, a value the library rejects),
 * 130 for an interrupt. {@code --verbose} adds the stack trace (or, for a bad command line, the usage help). User
 * errors are the exceptions the library throws for bad input: {@link IOException} (and its unchecked wrapper),
 * {@link IllegalArgumentException}, {@link IllegalStateException}, Gson's {@link JsonParseException}, and the
 * exception types the library defines. Anything else is a bug: its one line is followed by the stack trace, verbose
 * or not.
 */
final class CliErrors implements IExecutionExceptionHandler, IParameterExceptionHandler {
  /** The global option, inherited by every subcommand. */
  static final String VERBOSE = "--verbose";

  static final int FAILED = 1;
  static final int INTERRUPTED = 130;

  @Override
  public int handleExecutionException(Exception thrown, CommandLine cl, ParseResult parsed) {
    Throwable e = unwrap(thrown);
    boolean user = isUserError(e);
    PrintWriter err = cl.getErr();
    err.println(cl.getCommandSpec().qualifiedName() + ": " + (user ? message(e) : "internal error (a bug), " + e));
    if (!user || verbose(parsed)) e.printStackTrace(err);
    err.flush();
    return e instanceof Progress.TrainingInterruptedException ? INTERRUPTED : FAILED;
  }

  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    CommandLine cl = ex.getCommandLine();
    PrintWriter err = cl.getErr();
    String name = cl.getCommandSpec().qualifiedName();
    String line = name + ": " + oneLine(ex.getMessage());
    if (ex instanceof UnmatchedArgumentException u) {
      List<String> close = u.getSuggestions();
      if (!close.isEmpty()) line += "; did you mean " + String.join(" or ", close.subList(0, Math.min(3, close.size()))) + "?";
    }
    err.println(line + " (see '" + name + " --help')");
    if (Arrays.asList(args).contains(VERBOSE)) cl.usage(err);
    err.flush();
    return cl.getCommandSpec().exitCodeOnInvalidInput();
  }

  /**
   * True for the exceptions the library raises on bad input, as opposed to bugs: the standard ones it uses for that,
   * and every exception type it defines itself (an interrupt, a non-finite loss, ...), whose message is written for
   * the user.
   */
  static boolean isUserError(Throwable e) {
    return e instanceof IOException || e instanceof UncheckedIOException || e instanceof IllegalArgumentException
        || e instanceof IllegalStateException || e instanceof JsonParseException || e.getClass().getName().startsWith("dev.resa.");
  }

  /** The one line shown for a user error: the library's message, or the file and what is wrong with it. */
  static String message(Throwable e) {
    if (e instanceof UncheckedIOException && e.getCause() != null) return message(e.getCause());
    if (e instanceof FileSystemException f && f.getFile() != null) {
      String what = e instanceof NoSuchFileException ? "no such file or directory"
          : e instanceof AccessDeniedException ? "permission denied"
          : e instanceof NotDirectoryException ? "not a directory"
          : e instanceof FileAlreadyExistsException ? "already exists"
          : e instanceof DirectoryNotEmptyException ? "directory not empty"
          : f.getReason() != null ? f.getReason() : e.getClass().getSimpleName();
      return f.getFile() + (f.getOtherFile() != null ? " -> " + f.getOtherFile() : "") + ": " + what;
    }
    String m = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
    return (e instanceof JsonParseException ? "malformed JSON: " : "") + oneLine(m);
  }

  /**
   * Joins lines, and drops the Java class names that wrapped exceptions put in front of their cause's message and
   * the link to Gson's troubleshooting page that Gson appends to its own.
   */
  static String oneLine(String m) {
    return m.replaceAll("\\b(?:[a-z_][a-z0-9_]*\\.)+[A-Z]\\w*(?:Exception|Error): ", "")
        .replaceAll("\\s*See https://github\\.com/google/gson/\\S*?(?=\\)|$|\\s)", "")
        .strip().replaceAll("\\s*\\R\\s*", " ");
  }

  private static Throwable unwrap(Throwable e) {
    while ((e instanceof ExecutionException || e instanceof CompletionException) && e.getCause() != null) e = e.getCause();
    return e;
  }

  /** Whether {@code --verbose} was given at any level of the command line. */
  private static boolean verbose(ParseResult parsed) {
    for (ParseResult r = parsed; r != null; r = r.subcommand()) {
      if (r.hasMatchedOption(VERBOSE)) return true;
    }
    return false;
  }
}
