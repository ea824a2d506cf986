package dev.resa.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resa.train.Progress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The evaluator without Jupyter: state across cells, real result objects, error reports, interrupts. */
public class JShellEvaluatorTest {
  static JShellEvaluator ev;

  /** Notebook code in the interrupt test signals here that its loop is running. */
  public static final class Signal {
    public static final java.util.concurrent.CountDownLatch LOOP_STARTED = new java.util.concurrent.CountDownLatch(1);
  }

  @BeforeAll
  static void start() {
    ev = new JShellEvaluator();
  }

  @AfterAll
  static void stop() {
    ev.close();
  }

  @Test
  void variablesAndMethodsPersistAcrossCells() {
    assertNull(ev.eval("int base = 20;\nint twice(int v) { return 2 * v; }"));
    assertEquals(42, ev.eval("twice(base) + 2"));
  }

  @Test
  void variablesSurviveLaterImportsAndRedefinitions() {
    ev.eval("String kept = \"kept\";\nvar other = new int[] {1};");
    ev.eval("import tech.tablesaw.api.*;\nimport dev.resa.train.*;\nimport java.util.concurrent.atomic.*;");
    ev.eval("var other = new int[] {2};");
    assertEquals("kept", ev.eval("kept"));
    assertEquals(2, ev.eval("other[0]"));
  }

  @Test
  void resultIsTheRealObjectOfTheLastExpression() {
    Object v = ev.eval("var xs = new ArrayList<String>();\nxs.add(\"a\");\nxs");
    assertEquals(List.of("a"), v);
    assertNull(ev.eval("System.out.println(\"void\");"), "a void statement has no value");
  }

  @Test
  void compileErrorPointsAtTheLineWithACaret() {
    CellError e = assertThrows(CellError.CompileError.class, () -> ev.eval("int ok = 1;\nint bad = \"nope\";"));
    assertTrue(e.getMessage().startsWith("line 2: incompatible types"), e.getMessage());
    List<String> r = e.report();
    assertEquals("    int bad = \"nope\";", r.get(1));
    assertEquals("              ^^^^^^", r.get(2), "caret under the string literal");
  }

  @Test
  void exceptionShowsTheClassAndTheNotebookLine() {
    CellError e = assertThrows(CellError.Exception.class,
        () -> ev.evalCell("int zero = 0;\nint q = 1;\nq = q / zero;", "cell 7", 1));
    assertEquals("java.lang.ArithmeticException: / by zero", e.getMessage());
    assertTrue(e.report().stream().anyMatch(l -> l.contains("(cell 7 line 3)")), String.join("\n", e.report()));
    assertTrue(e.report().stream().noneMatch(l -> l.contains("jdk.jshell") || l.contains("InProcessControl")),
        "kernel machinery is cut from the trace:\n" + String.join("\n", e.report()));
  }

  @Test
  void evaluatorSurvivesErrors() {
    assertThrows(CellError.class, () -> ev.eval("undefinedThing()"));
    assertThrows(CellError.class, () -> ev.eval("throw new IllegalStateException(\"boom\");"));
    assertEquals(3, ev.eval("1 + 2"));
  }

  @Test
  void interruptStopsATrainingLoopAtItsNextStep() throws Exception {
    ev.eval("import dev.resa.train.Progress;\n"
        + "var stoppedAt = new java.util.concurrent.atomic.AtomicLong(-1);");
    CompletableFuture<Object> run = CompletableFuture.supplyAsync(() -> ev.eval(
        "long step = 0;\n"
            + "try { dev.resa.kernel.JShellEvaluatorTest.Signal.LOOP_STARTED.countDown();\n"
            + "  while (true) { Progress.checkInterrupted(); step++; Thread.onSpinWait(); } }\n"
            + "catch (Progress.TrainingInterruptedException e) { stoppedAt.set(step); }"));
    assertTrue(Signal.LOOP_STARTED.await(60, TimeUnit.SECONDS), "the loop started");
    Thread.sleep(50);
    ev.interrupt();
    CompletableFuture<Throwable> outcome = run.handle((v, t) -> t);
    Throwable t = outcome.get(10, TimeUnit.SECONDS);
    assertInstanceOf(CellError.Interrupted.class, t.getCause() != null ? t.getCause() : t);
    long stopped = -1;
    for (int i = 0; i < 100 && stopped < 0; i++) {
      Thread.sleep(20);
      stopped = (Long) ev.eval("stoppedAt.get()");
    }
    assertTrue(stopped > 0, "the loop saw the interrupt at a step boundary (stopped at step " + stopped + ")");
    assertEquals(5, ev.eval("2 + 3"), "the kernel keeps working after an interrupt");
  }

  @Test
  void magicsTimeAndClasspathErrors() {
    Magics m = new Magics(ev, java.nio.file.Path.of("").toAbsolutePath());
    assertEquals(9, m.run("%time 4 + 5", "cell"));
    assertEquals(10, m.run("%%time\nint a = 4;\na + 6", "cell"));
    CellError e = assertThrows(CellError.MagicError.class, () -> m.run("%classpath /no/such/dir/*.jar", "cell"));
    assertTrue(e.getMessage().contains("/no/such/dir"), e.getMessage());
    assertThrows(CellError.MagicError.class, () -> m.run("%nosuchmagic", "cell"));
  }

  @Test
  void loadRunsAFileAndClasspathAddsCompiledClasses(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path src = dir.resolve("src/demo/Greeter.java");
    java.nio.file.Files.createDirectories(src.getParent());
    java.nio.file.Files.writeString(src,
        "package demo; public class Greeter { public static String hi(String n) { return \"hi \" + n; } }");
    java.nio.file.Path classes = dir.resolve("classes");
    int rc = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), src.toString());
    assertEquals(0, rc);
    java.nio.file.Files.writeString(dir.resolve("setup.jsh"),
        "%classpath classes\nimport demo.Greeter;\nString who = \"notebook\";\n");
    Magics m = new Magics(ev, dir);
    m.run("%load setup.jsh", "cell");
    assertEquals("hi notebook", m.run("Greeter.hi(who)", "cell"));
    CellError e = assertThrows(CellError.MagicError.class, () -> m.run("%load missing.jsh", "cell"));
    assertTrue(e.getMessage().contains("missing.jsh"), e.getMessage());
  }

  @Test
  void progressOutsideANotebookFallsBackToTheTerminalBar() {
    try (Progress.Bar bar = Progress.start("test", 2)) {
      assertTrue(!bar.getClass().getName().contains("kernel"), "no kernel is running, so no notebook display");
    }
  }
}
