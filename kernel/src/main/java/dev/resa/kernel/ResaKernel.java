package dev.resa.kernel;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import jdk.jshell.SourceCodeAnalysis.Completeness;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.HelpLink;
import org.dflib.jjava.jupyter.kernel.JupyterIO;
import org.dflib.jjava.jupyter.kernel.LanguageInfo;
import org.dflib.jjava.jupyter.kernel.ReplacementOptions;
import org.dflib.jjava.jupyter.kernel.comm.CommManager;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.util.StringStyler;
import org.dflib.jjava.jupyter.kernel.util.TextColor;

/**
 * The Resa Java kernel: jjava-jupyter speaks the Jupyter protocol, {@link JShellEvaluator} runs cells in this JVM,
 * {@link Magics} handles {@code %} lines, and values render through resa-lib's renderer registry.
 *
 * <p>JShell starts on a background thread as soon as the kernel is created, overlapping the JVM's socket setup and
 * the first kernel_info round trip; the first cell waits for it.
 */
public final class ResaKernel extends BaseKernel {
  private static volatile ResaKernel current;

  private final CompletableFuture<JShellEvaluator> evaluator;
  private volatile boolean executing;
  /** {@link System#nanoTime()} when the last cell ended; {@link Long#MAX_VALUE} while one runs and before the first. */
  private volatile long lastCellEnd = Long.MAX_VALUE;

  public ResaKernel() {
    super("resa-java", "0.1.0", languageInfo(), List.of(new HelpLink("Resa for Java", "https://arxiv.org/abs/2506.09967")),
        null, new JupyterIO(StandardCharsets.UTF_8), new CommManager(), new Renderer(), null, null, false,
        new StringStyler.Builder().addPrimaryStyle(TextColor.BOLD_RESET_FG).addSecondaryStyle(TextColor.RESET_FG)
            .addHighlightStyle(TextColor.BOLD_RED_FG).build());
    evaluator = CompletableFuture.supplyAsync(JShellEvaluator::new, r -> {
      Thread t = new Thread(r, "resa-jshell-init");
      t.setDaemon(true);
      t.start();
    });
  }

  private static LanguageInfo languageInfo() {
    return new LanguageInfo("java", Runtime.version().toString(), "text/x-java", ".jshell", "java", "text/x-java", null);
  }

  /** The running kernel, or null outside a notebook. */
  public static ResaKernel current() {
    return current;
  }

  static ResaKernel requireCurrent() {
    ResaKernel k = current;
    if (k == null) throw new IllegalStateException("no notebook kernel is running (display() only works in a notebook)");
    return k;
  }

  /** True while a cell runs (displays opened now belong to it). */
  public boolean isExecuting() {
    return executing && getIO().display.isAttached();
  }

  JShellEvaluator evaluator() {
    return evaluator.join();
  }

  /** Once the first cell has run, warms javac in the background whenever no cell runs ({@link CompilerWarmup}). */
  void startCompilerWarmup() {
    evaluator.thenRun(() -> CompilerWarmup.start(() -> lastCellEnd));
  }

  @Override
  public void onStartup() {
    super.onStartup();
    current = this;
  }

  @Override
  public void onShutdown(boolean restarting) {
    super.onShutdown(restarting);
    current = null;
    evaluator.thenAccept(JShellEvaluator::close);
  }

  @Override
  public Object evalRaw(String source) {
    lastCellEnd = Long.MAX_VALUE;
    try {
      JShellEvaluator ev = evaluator();
      executing = true;
      ev.startCell();
      Object value = new Magics(ev, Path.of("").toAbsolutePath()).run(source, "cell " + (executionCount.get() - 1));
      return value == null ? null : Displays.render(value, getRenderer());
    } finally {
      executing = false;
      lastCellEnd = System.nanoTime();
    }
  }

  @Override
  public DisplayData eval(String source) {
    return (DisplayData) evalRaw(source);
  }

  @Override
  public List<String> formatError(Throwable e) {
    if (e instanceof CellError c) {
      List<String> lines = new ArrayList<>();
      lines.add(errorStyler.highlight(c.getClass().getSimpleName() + ": " + c.getMessage()));
      if (!(c.report().size() == 1 && c.report().get(0).equals(c.getMessage()))) {
        c.report().forEach(l -> lines.add(errorStyler.secondary(l)));
      }
      return lines;
    }
    return super.formatError(e);
  }

  @Override
  public void interrupt() {
    if (evaluator.isDone()) evaluator.join().interrupt();
  }

  @Override
  public DisplayData inspect(String code, int at, boolean extraDetail) {
    List<String> docs = evaluator().documentation(code, at, extraDetail);
    return docs.isEmpty() ? null : new DisplayData(String.join("\n\n", docs));
  }

  @Override
  public ReplacementOptions complete(String code, int at) {
    int[] anchor = {at};
    List<String> options = evaluator().complete(code, at, anchor);
    return options.isEmpty() ? null : new ReplacementOptions(options, anchor[0], at);
  }

  @Override
  public String isComplete(String code) {
    String java = code.lines().filter(l -> !l.stripLeading().startsWith("%")).reduce("", (a, b) -> a + b + "\n");
    if (java.isBlank()) return IS_COMPLETE_YES;
    Completeness c = evaluator().completeness(java);
    return switch (c) {
      case COMPLETE, COMPLETE_WITH_SEMI, EMPTY -> IS_COMPLETE_YES;
      case DEFINITELY_INCOMPLETE -> "    ";
      case CONSIDERED_INCOMPLETE -> IS_COMPLETE_MAYBE;
      case UNKNOWN -> IS_COMPLETE_BAD;
    };
  }
}
