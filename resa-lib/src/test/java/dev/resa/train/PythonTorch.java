package dev.resa.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Runs a script with Debian's {@code /usr/bin/python3} + torch as an independent reference; skips when absent. */
final class PythonTorch {
  private static final Path PYTHON = Path.of("/usr/bin/python3");

  private PythonTorch() {}

  /** Runs {@code script}; returns its stdout. Aborts the calling test (skipped, not passed) without python3 + torch. */
  static String run(String script) throws IOException, InterruptedException {
    Assumptions.assumeTrue(Files.isExecutable(PYTHON), "skipped: /usr/bin/python3 not found (needed as the torch reference)");
    Process probe = new ProcessBuilder(PYTHON.toString(), "-c", "import torch").redirectErrorStream(true).start();
    probe.getInputStream().readAllBytes();
    Assumptions.assumeTrue(probe.waitFor(60, TimeUnit.SECONDS) && probe.exitValue() == 0,
        "skipped: 'import torch' fails in /usr/bin/python3 (apt-get install python3-torch to run this reference)");
    Process p = new ProcessBuilder(PYTHON.toString(), "-c", script).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException("python reference failed:\n" + err);
    return out.trim();
  }
}
