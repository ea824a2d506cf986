package dev.resa.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel through the real Jupyter protocol, driven by Python's jupyter_client in a separate process:
 * <ul>
 *   <li>{@code test_conformance.py}: Jupyter's own conformance suite (jupyter_kernel_test, Debian package
 *       python3-jupyter-kernel-test) configured for Java;
 *   <li>{@code test_kernel_behaviour.py}: interrupts that stop {@code while (true) {}} (kernel CPU back to idle), 100 bad
 *       cells in a row, Run All stopping at a failing cell (stop_on_error), restarts without orphaned JVMs, history
 *       across restarts, completion positions, Javadoc on Shift-Tab, {@code %maven}.
 * </ul>
 * Both run with {@code python3 -m unittest -v}; their logs go to {@code kernel/target/ci-artifacts/} and the summary
 * to this test's output. Missing Jupyter packages FAIL the test unless {@code -Dresa.skipNotebooks=true} is given.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KernelProtocolTest {
  private static final String KERNEL = "resa-java-protocol-test";
  private final Path repo = Path.of(System.getProperty("resa.repo", "..")).toAbsolutePath().normalize();
  private final Path artifacts = repo.resolve("kernel/target/ci-artifacts");
  @TempDir static Path work; // Jupyter's config, runtime and data folders and the test kernelspec; deleted after the class

  @BeforeAll
  void installKernel() throws Exception {
    Assumptions.assumeFalse(Boolean.getBoolean("resa.skipNotebooks"),
        "kernel protocol tests explicitly skipped with -Dresa.skipNotebooks=true");
    TestKernelSpec.install(KERNEL, work.resolve("share/jupyter"));
    Files.createDirectories(artifacts);
  }

  @Test
  void jupyterKernelConformanceSuite() throws Exception {
    runUnittest("test_conformance", 900);
  }

  @Test
  void behaviourThroughTheProtocol() throws Exception {
    runUnittest("test_kernel_behaviour", 1800);
  }

  private void runUnittest(String module, long timeoutSeconds) throws Exception {
    Path log = artifacts.resolve(module + ".log");
    Path scripts = repo.resolve("kernel/src/test/python");
    ProcessBuilder pb = new ProcessBuilder(List.of(python(), "-m", "unittest", "-v", module))
        .directory(scripts.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("JUPYTER_PATH", work.resolve("share/jupyter").toString());
    env.put("JUPYTER_CONFIG_DIR", work.resolve("config").toString());
    env.put("JUPYTER_RUNTIME_DIR", work.resolve("runtime").toString());
    env.put("JUPYTER_DATA_DIR", work.resolve("data").toString()); // the kernel's history file goes here
    env.put("RESA_TEST_KERNEL", KERNEL);
    env.put("RESA_REPO", repo.toString());
    env.put("PYDEVD_DISABLE_FILE_VALIDATION", "1");
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      fail(python() + " is missing: apt-get install python3-jupyter-kernel-test jupyter-client (or pass "
          + "-Dresa.skipNotebooks=true to skip explicitly)");
      return;
    }
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      fail(module + " timed out after " + timeoutSeconds + " s\n" + tail(log, 60));
    }
    String out = Files.readString(log, StandardCharsets.UTF_8);
    if (out.contains("No module named jupyter_kernel_test") || out.contains("No module named 'jupyter_kernel_test'")) {
      fail("jupyter_kernel_test is missing: apt-get install python3-jupyter-kernel-test (or pass "
          + "-Dresa.skipNotebooks=true to skip explicitly)");
    }
    System.out.println("---- " + module + " (python3 -m unittest -v; log: " + log + ")");
    System.out.println(summary(out));
    assertEquals(0, p.exitValue(), module + " failed:\n" + tail(log, 80));
    Matcher ran = Pattern.compile("(?m)^Ran (\\d+) tests?").matcher(out);
    assertTrue(ran.find() && Integer.parseInt(ran.group(1)) > 0, module + " ran no test:\n" + tail(log, 40));
  }

  /** unittest's per-test lines (ok / skipped 'reason' / FAIL) and its closing lines. */
  private static String summary(String out) {
    StringBuilder s = new StringBuilder();
    for (String line : out.split("\n")) {
      boolean measured = line.matches("^  [{a-zA-Z].*") && !line.startsWith("  File "); // what a test printed
      if (line.matches("^test\\w* \\(.*") || line.contains(" ... ") || measured || line.startsWith("Ran ")
          || line.startsWith("OK") || line.startsWith("FAILED")) {
        s.append(line).append('\n');
      }
    }
    return s.toString().strip();
  }

  private static String python() {
    return System.getProperty("resa.python", "/usr/bin/python3");
  }

  private static String tail(Path log, int lines) throws IOException {
    List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }
}
