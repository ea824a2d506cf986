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
import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.channels.ShellReplyEnvironment;
import org.dflib.jjava.jupyter.messages.Header;
import org.dflib.jjava.jupyter.messages.Message;
import org.dflib.jjava.jupyter.messages.MessageType;
import org.dflib.jjava.jupyter.messages.publish.PublishClearOutput;
import org.dflib.jjava.jupyter.messages.request.CommInfoRequest;
import org.dflib.jjava.jupyter.messages.request.ExecuteRequest;
import org.dflib.jjava.jupyter.messages.request.HistoryRequest;
import org.dflib.jjava.jupyter.messages.request.KernelInfoRequest;

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
  private final CellHistory history;
  /** The request the running cell answers (for clear_output); null between cells. */
  private volatile ShellReplyEnvironment cellEnv;
  /** Set when the last cell failed; read after its execute_reply for {@code stop_on_error}. */
  private volatile boolean lastCellFailed;
  /** text/plain of the last cell's result, for the history. */
  private volatile String lastOutput;
  private KernelConnection connection;
  /** The running cell's batched stdout and stderr ({@link BatchedOutput}); null between cells. */
  private volatile BatchedOutput cellOut, cellErr;
  /** Repositories added with %mavenRepo stay for the session. */
  private final MavenDependencies maven = new MavenDependencies();

  public ResaKernel() {
    this(CellHistory.defaultFile());
  }

  ResaKernel(java.nio.file.Path historyFile) {
    super("resa-java", "0.1.0", languageInfo(), List.of(new HelpLink("Resa for Java", "https://arxiv.org/abs/2506.09967")),
        null, new JupyterIO(StandardCharsets.UTF_8), new CommManager(), new Renderer(), null, null, false,
        new StringStyler.Builder().addPrimaryStyle(TextColor.BOLD_RESET_FG).addSecondaryStyle(TextColor.RESET_FG)
            .addHighlightStyle(TextColor.BOLD_RED_FG).build());
    history = new CellHistory(historyFile);
    evaluator = CompletableFuture.supplyAsync(JShellEvaluator::new, r -> {
      Thread t = new Thread(r, "resa-jshell-init");
      t.setDaemon(true);
      t.start();
    });
  }

  private static LanguageInfo languageInfo() {
    return new LanguageInfo("java", Runtime.version().toString(), "text/x-java", ".jshell", "java", "text/x-java", null);
  }

  @Override
  public String getBanner() {
    return "Resa Java kernel " + version + " (JShell on Java " + Runtime.version() + ", resa-lib on the classpath)\n"
        + "Magics: %maven g:a:v, %mavenRepo id url, %classpath, %load, %time, %%time. Shift-Tab shows Javadoc.";
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
      Object value = new Magics(ev, Path.of("").toAbsolutePath(), maven).run(source, "cell " + (executionCount.get() - 1));
      return value == null ? null : Displays.render(value, getRenderer());
    } finally {
      executing = false;
      lastCellEnd = System.nanoTime();
    }
  }

  /** jjava's per-cell System.out and System.err, each behind a {@link BatchedOutput}. */
  @Override
  protected void replaceOutputStreams(ShellReplyEnvironment env) {
    super.replaceOutputStreams(env); // System.out/err = jjava's streams for this request (restored after it)
    BatchedOutput out = new BatchedOutput(System.out), err = new BatchedOutput(System.err);
    System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
    cellOut = out;
    cellErr = err;
  }

  /** Sends the cell's remaining output, before its result. */
  private void closeCellStreams() {
    BatchedOutput out = cellOut, err = cellErr;
    cellOut = cellErr = null;
    if (out != null) out.close();
    if (err != null) err.close();
  }

  private void sendPendingOutput() {
    BatchedOutput out = cellOut, err = cellErr;
    if (out != null) out.send();
    if (err != null) err.send();
  }

  /** Shows {@code data} after the text the cell printed before it. */
  @Override
  public void display(DisplayData data) {
    sendPendingOutput();
    super.display(data);
  }

  @Override
  public DisplayData eval(String source) {
    lastCellFailed = true;
    lastOutput = null;
    DisplayData d;
    try {
      d = (DisplayData) evalRaw(source);
    } finally {
      closeCellStreams();
    }
    lastCellFailed = false;
    if (d != null && d.getData(org.dflib.jjava.jupyter.kernel.display.mime.MIMEType.TEXT_PLAIN) instanceof String text) lastOutput = text;
    return d;
  }

  /** Also answers comm_info_request (jjava leaves it unanswered) and remembers the connection for aborts. */
  @Override
  public void becomeHandlerForConnection(JupyterConnection connection) {
    super.becomeHandlerForConnection(connection);
    if (connection instanceof KernelConnection k) this.connection = k;
    connection.setHandler(MessageType.COMM_INFO_REQUEST, this::handleCommInfoRequest);
  }

  /**
   * Runs the cell as jjava does, records it in the history, and after a failure with {@code stop_on_error} (what
   * Run All sends) has the connection abort the execute requests already queued behind it, as ipykernel does.
   */
  @Override
  protected void handleExecuteRequest(ShellReplyEnvironment env, Message<ExecuteRequest> message) {
    ExecuteRequest request = message.getContent();
    int line = executionCount.get();
    cellEnv = env;
    try {
      super.handleExecuteRequest(env, message);
    } finally {
      cellEnv = null;
    }
    if (request.shouldStoreHistory() && !request.isSilent()) {
      history.add(line, request.getCode(), lastCellFailed ? null : lastOutput);
    }
    if (lastCellFailed && request.shouldStopOnError() && connection != null) connection.abortQueuedExecutes();
  }

  /** Clears the running cell's output now, or (with {@code wait}) just before its next output appears. */
  void clearOutput(boolean wait) {
    ShellReplyEnvironment env = cellEnv;
    if (env == null) throw new IllegalStateException("clearOutput() only works while a notebook cell runs");
    sendPendingOutput();
    env.publish(wait ? PublishClearOutput.BEFORE_NEXT_OUTPUT : PublishClearOutput.NOW);
  }

  @Override
  protected void handleKernelInfoRequest(ShellReplyEnvironment env, Message<KernelInfoRequest> message) {
    env.setBusyDeferIdle();
    env.reply(new Replies.KernelInfo(Header.PROTOCOL_VERISON, name, version, getLanguageInfo(), getBanner(),
        getHelpLinks()));
  }

  @Override
  protected void handleHistoryRequest(ShellReplyEnvironment env, Message<HistoryRequest> message) {
    env.setBusyDeferIdle();
    HistoryRequest r = message.getContent();
    List<CellHistory.Entry> entries = List.of();
    if (r instanceof HistoryRequest.Tail t) entries = history.tail(t.getMaxReturnLength());
    if (r instanceof HistoryRequest.Range g) entries = history.range(g.getSessionIndex(), g.getStart(), g.getStop());
    if (r instanceof HistoryRequest.Search s) {
      entries = history.search(s.getPattern(), s.getMaxReturnLength(), s.filterUnique());
    }
    List<List<Object>> rows = new ArrayList<>();
    for (CellHistory.Entry e : entries) {
      List<Object> row = new ArrayList<>(List.of(e.session(), e.line()));
      row.add(r.includeOutput() ? java.util.Arrays.asList(e.input(), e.output()) : e.input());
      rows.add(row);
    }
    env.reply(new Replies.History(rows));
  }

  private void handleCommInfoRequest(ShellReplyEnvironment env, Message<CommInfoRequest> message) {
    env.setBusyDeferIdle();
    env.reply(new Replies.CommInfo(java.util.Map.of())); // this kernel opens no comms
  }

  @Override
  public List<String> formatError(Throwable e) {
    if (e instanceof CellError c) {
      // the message once: the report's first line (which states it, with the line number) is the headline
      List<String> report = c.report().isEmpty() ? List.of(c.getMessage()) : c.report();
      List<String> lines = new ArrayList<>();
      lines.add(errorStyler.highlight(c.getClass().getSimpleName() + ": " + report.get(0)));
      report.subList(1, report.size()).forEach(l -> lines.add(errorStyler.secondary(l)));
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
    List<JShellEvaluator.Doc> docs = evaluator().documentation(code, at, extraDetail);
    if (docs.isEmpty()) return null;
    // several overloads: the summary of each; Shift-Tab twice (detail) adds parameters, returns and throws
    StringBuilder plain = new StringBuilder();
    StringBuilder markdown = new StringBuilder();
    for (JShellEvaluator.Doc d : docs) {
      if (plain.length() > 0) {
        plain.append("\n\n");
        markdown.append("\n---\n\n");
      }
      plain.append(Javadoc.plain(d.signature(), d.javadoc(), extraDetail));
      markdown.append(Javadoc.markdown(d.signature(), d.javadoc(), extraDetail));
    }
    DisplayData data = new DisplayData(plain.toString());
    data.putMarkdown(markdown.toString());
    return data;
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
