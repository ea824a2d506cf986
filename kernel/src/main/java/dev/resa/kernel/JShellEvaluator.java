package dev.resa.kernel;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.SourceCodeAnalysis.Completeness;
import jdk.jshell.UnresolvedReferenceException;
import jdk.jshell.VarSnippet;

/**
 * Evaluates Java cells with JShell, in this JVM ({@link InProcessControl}).
 *
 * <p>A cell may hold many snippets (declarations, statements, expressions); they run in order and the value of the
 * last one, when it is an expression, is the cell's result. Failures become {@link CellError}s that point at the cell
 * line: compile errors show the line with a caret, exceptions show the exception and the frames of notebook code.
 */
public final class JShellEvaluator implements AutoCloseable {
  /** Imports every cell sees (a subset of the jshell tool's: each one costs a compile at kernel start). */
  static final String STARTUP = String.join("\n",
      "import java.io.*;", "import java.nio.file.*;", "import java.util.*;", "import java.util.function.*;",
      "import java.util.stream.*;", "import static dev.resa.kernel.Notebook.*;");

  private final SnippetLoader loader = new SnippetLoader();
  private final InProcessControl.Provider provider = new InProcessControl.Provider(loader);
  private final JShell shell;
  private final InProcessControl control;
  /** Where each snippet came from, for stack traces: snippet id → label and first line. */
  private final Map<String, Origin> origins = new ConcurrentHashMap<>();
  /** Variable snippet id → the class that currently holds its value. */
  private final Map<String, String> variableClasses = new ConcurrentHashMap<>();
  private static final Method CLASS_FULL_NAME = classFullNameAccessor();

  private record Origin(String cell, int firstLine) {}

  public JShellEvaluator() {
    shell = JShell.builder()
        .executionEngine(provider, Map.of())
        .out(System.out).err(System.err).in(System.in)
        .build();
    control = provider.control();
    evalCell(STARTUP, "startup", 1);
  }

  /** Evaluates a cell; returns the value of its last expression (null when there is none). */
  public Object eval(String code) {
    startCell();
    return evalCell(code, "cell", 1);
  }

  /** Marks the start of a new cell (an interrupt of the previous one no longer applies). */
  public void startCell() {
    control.resetInterrupt();
  }

  /**
   * Evaluates {@code code}, which starts at line {@code firstLine} of the cell named {@code cellLabel} (used in
   * error reports).
   */
  public Object evalCell(String code, String cellLabel, int firstLine) {
    SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
    String remaining = code;
    int offset = 0;
    Object last = null;
    try {
      while (!remaining.isBlank()) {
        SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(remaining);
        int consumed = remaining.length() - info.remaining().length();
        int lead = leadingSpace(remaining);
        int snippetStart = offset + lead;
        if (info.completeness() == Completeness.EMPTY) break;
        if (control.interrupted()) throw interrupted();
        if (!info.completeness().isComplete()) {
          int line = firstLine + lineOf(code, snippetStart);
          throw new CellError.CompileError("incomplete input at line " + line,
              List.of("Incomplete input starting at line " + line + " (missing ';' or '}'?):",
                  "    " + lineText(code, snippetStart)));
        }
        int startLine = firstLine + lineOf(code, snippetStart);
        // diagnostics count from the start of info.source(), which may keep some of the leading whitespace
        int sourceStart = snippetStart - leadingSpace(info.source());
        last = evalSnippet(info.source(), code, sourceStart, firstLine, cellLabel, startLine);
        remaining = info.remaining();
        offset += consumed;
      }
      return last;
    } finally {
      control.clearResults();
    }
  }

  private Object evalSnippet(String source, String cell, int snippetStart, int firstLine, String cellLabel, int startLine) {
    List<SnippetEvent> events = shell.eval(source);
    Object value = null;
    for (SnippetEvent e : events) {
      if (e.snippet() instanceof VarSnippet v) trackVariable(e, v);
      if (e.causeSnippet() != null) continue;
      Snippet s = e.snippet();
      origins.put(s.id(), new Origin(cellLabel, startLine));
      if (e.status() == Snippet.Status.REJECTED) throw compileError(s, cell, snippetStart, firstLine);
      if (e.exception() != null) throw runtimeError(e.exception());
      if (isExpression(s)) value = control.takeResult(e.value());
    }
    return value;
  }

  private static boolean isExpression(Snippet s) {
    return switch (s.subKind()) {
      case VAR_VALUE_SUBKIND, TEMP_VAR_EXPRESSION_SUBKIND, OTHER_EXPRESSION_SUBKIND, ASSIGNMENT_SUBKIND -> true;
      default -> false;
    };
  }

  private CellError compileError(Snippet s, String cell, int snippetStart, int firstLine) {
    List<Diag> diags = shell.diagnostics(s).filter(Diag::isError).toList();
    List<String> report = new ArrayList<>();
    String summary = "compilation failed";
    for (Diag d : diags) {
      long start = Math.max(0, d.getStartPosition() >= 0 ? d.getStartPosition() : d.getPosition());
      int from = (int) Math.min(cell.length(), snippetStart + start);
      int to = (int) Math.min(cell.length(), snippetStart + Math.max(start + 1, d.getEndPosition()));
      int line = firstLine + lineOf(cell, from);
      String message = d.getMessage(Locale.ROOT);
      if (report.isEmpty()) summary = "line " + line + ": " + firstLine(message);
      String text = lineText(cell, from);
      int column = from - lineStart(cell, from);
      int width = Math.max(1, Math.min(to - from, text.length() - column));
      report.add("Line " + line + ": " + message.replace("\n", " | "));
      report.add("    " + text);
      report.add("    " + " ".repeat(column) + "^".repeat(width));
    }
    if (diags.isEmpty()) {
      report.add("The snippet was rejected: " + s.source().strip());
      if (s instanceof jdk.jshell.DeclarationSnippet ds) {
        shell.unresolvedDependencies(ds).forEach(u -> report.add("  cannot find symbol: " + u));
      }
    }
    return new CellError.CompileError( summary, report);
  }

  private static CellError interrupted() {
    return new CellError.Interrupted("interrupted by the user",
        List.of("Interrupted. A loop that checks for interrupts (every resa training loop) stops at its next step;",
            "code that never checks may keep running in the background until the kernel is restarted."));
  }

  private CellError runtimeError(jdk.jshell.JShellException ex) {
    Throwable original = control.takeLastThrown();
    if (original instanceof InProcessControl.CellInterrupted) {
      return new CellError.Interrupted( "interrupted by the user",
          List.of("Interrupted. A loop that checks for interrupts (every resa training loop) stops at its next step;",
              "code that never checks may keep running in the background until the kernel is restarted."));
    }
    if (ex instanceof UnresolvedReferenceException u) {
      return new CellError.CompileError( "unresolved reference in " + u.getSnippet().source().strip(),
          List.of("Cannot run: " + u.getSnippet().source().strip(), "  it depends on something not (yet) defined: "
              + shell.unresolvedDependencies(u.getSnippet()).toList()));
    }
    // JShell's EvalException carries the frames translated to snippet lines; the original keeps class and causes.
    EvalException ee = (EvalException) ex;
    String header = original != null ? original.toString()
        : ee.getExceptionClassName() + (ee.getMessage() != null ? ": " + ee.getMessage() : "");
    List<String> report = new ArrayList<>();
    report.add(header);
    userFrames(ee.getStackTrace(), report);
    for (Throwable c = original == null ? null : original.getCause(); c != null && report.size() < 120; c = c.getCause()) {
      report.add("Caused by: " + c);
      libraryFrames(c.getStackTrace(), report);
      if (c.getCause() == c) break;
    }
    return new CellError.Exception(header, report);
  }

  /** Frames of a cause: library code up to the first notebook frame. */
  private static void libraryFrames(StackTraceElement[] frames, List<String> report) {
    int shown = 0;
    for (StackTraceElement f : frames) {
      if (isNotebookFrame(f) || shown++ == 8) break;
      report.add("    at " + f);
    }
  }

  /** Frames of library code above the notebook, then notebook frames with cell lines; kernel machinery is cut. */
  private void userFrames(StackTraceElement[] frames, List<String> report) {
    int lastUser = -1;
    for (int i = 0; i < frames.length; i++) if (isNotebookFrame(frames[i])) lastUser = i;
    int end = lastUser >= 0 ? lastUser + 1 : Math.min(frames.length, 12);
    int libraryShown = 0;
    for (int i = 0; i < end; i++) {
      StackTraceElement f = frames[i];
      if (isNotebookFrame(f)) {
        report.add("    at " + notebookFrame(f));
      } else if (libraryShown++ < 12) {
        report.add("    at " + f);
      } else if (libraryShown == 14) {
        report.add("    ...");
      }
    }
  }

  private static boolean isNotebookFrame(StackTraceElement f) {
    return f.getClassName().startsWith("REPL.") || (f.getFileName() != null && f.getFileName().startsWith("#"));
  }

  private String notebookFrame(StackTraceElement f) {
    // REPL.$JShell$12$Point.norm(#12:3) -> Point.norm (cell line N)
    String cls = f.getClassName().replaceFirst("^REPL\\.\\$JShell\\$\\d+[A-Z]?\\$?", "");
    String method = f.getMethodName().equals("do_it$") ? "" : f.getMethodName();
    String where = cls.isEmpty() ? method : (method.isEmpty() ? cls : cls + "." + method);
    String file = f.getFileName() == null ? "" : f.getFileName();
    Origin o = file.startsWith("#") ? origins.get(file.substring(1)) : null;
    String line = o != null && f.getLineNumber() > 0
        ? o.cell() + " line " + (o.firstLine() + f.getLineNumber() - 1)
        : "snippet " + file + ":" + f.getLineNumber();
    return (where.isEmpty() ? "" : where + " ") + "(" + line + ")";
  }

  /**
   * Keeps variable values right across JShell's recompilations. In this JVM a recompiled snippet gets a new class
   * (JShell's in-place redefinition needs a debugger connection), so: when a later snippet (e.g. an import) makes
   * JShell recompile a variable, its value is carried over to the new class; when a variable is replaced by a new
   * declaration, the old class's value is dropped so re-running a cell does not pin big objects.
   */
  private void trackVariable(SnippetEvent e, VarSnippet v) {
    if (CLASS_FULL_NAME == null) return;
    try {
      String cls = (String) CLASS_FULL_NAME.invoke(v);
      if (e.status() == Snippet.Status.OVERWRITTEN || e.status() == Snippet.Status.DROPPED) {
        for (VarSnippet live : shell.variables().toList()) if (cls.equals(CLASS_FULL_NAME.invoke(live))) return;
        Field old = loader.findClass(cls).getDeclaredField(v.name());
        old.setAccessible(true);
        if (!old.getType().isPrimitive()) old.set(null, null);
        return;
      }
      String before = variableClasses.put(v.id(), cls);
      if (before != null && !before.equals(cls) && e.causeSnippet() != null
          && e.previousStatus().isActive() && e.status().isActive()) {
        Field old = loader.findClass(before).getDeclaredField(v.name());
        Field current = loader.findClass(cls).getDeclaredField(v.name());
        old.setAccessible(true);
        current.setAccessible(true);
        if (current.getType() == old.getType()) current.set(null, old.get(null));
      }
    } catch (Throwable ignored) {
      // best effort: the variable keeps JShell's default behaviour
    }
  }

  private static Method classFullNameAccessor() {
    try {
      Method m = Snippet.class.getDeclaredMethod("classFullName");
      m.setAccessible(true); // needs --add-opens jdk.jshell/jdk.jshell=ALL-UNNAMED (set by the kernelspec)
      return m;
    } catch (Throwable e) {
      return null;
    }
  }

  /** Adds jars or class folders to notebook code, for compilation and at run time. */
  public void addToClasspath(List<String> entries) {
    for (String e : entries) shell.addToClasspath(e);
  }

  /** Completion candidates at {@code cursor}: the replaced range starts at {@code anchor[0]}. */
  public List<String> complete(String code, int cursor, int[] anchor) {
    return shell.sourceCodeAnalysis().completionSuggestions(code, cursor, anchor).stream()
        .map(SourceCodeAnalysis.Suggestion::continuation).distinct().toList();
  }

  /** One signature at the cursor and its raw Javadoc (null when no sources were found). */
  public record Doc(String signature, String javadoc) {}

  /** Signatures and Javadoc of what is at {@code cursor} (or of the call it is inside). */
  public List<Doc> documentation(String code, int cursor, boolean detail) {
    DocSources.install();
    SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
    List<SourceCodeAnalysis.Documentation> docs = analysis.documentation(code, cursor, true);
    if (docs.isEmpty()) { // on a method name without its '(' yet (Math.ma|x): ask as if the call were open
      int end = cursor;
      while (end < code.length() && Character.isJavaIdentifierPart(code.charAt(end))) end++;
      if (end > 0 && Character.isJavaIdentifierPart(code.charAt(end - 1))) {
        docs = analysis.documentation(code.substring(0, end) + "(", end + 1, true);
      }
    }
    return docs.stream().map(d -> new Doc(d.signature(), d.javadoc())).toList();
  }

  /** JShell's view of whether {@code code} is a complete input. */
  public Completeness completeness(String code) {
    return shell.sourceCodeAnalysis().analyzeCompletion(code).completeness();
  }

  /** Stops the running snippet (its thread is interrupted; control returns at once). */
  public void interrupt() {
    control.interrupt();
  }

  @Override
  public void close() {
    shell.close();
  }

  private static int leadingSpace(String s) {
    int i = 0;
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
    return i;
  }

  /** 0-based line index of character {@code at}. */
  static int lineOf(String s, int at) {
    int line = 0;
    for (int i = 0; i < Math.min(at, s.length()); i++) if (s.charAt(i) == '\n') line++;
    return line;
  }

  private static int lineStart(String s, int at) {
    int i = Math.min(at, s.length());
    while (i > 0 && s.charAt(i - 1) != '\n') i--;
    return i;
  }

  private static String lineText(String s, int at) {
    int start = lineStart(s, at);
    int end = s.indexOf('\n', start);
    return s.substring(start, end < 0 ? s.length() : end);
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
