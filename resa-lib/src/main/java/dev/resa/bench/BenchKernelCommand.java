package dev.resa.bench;

import dev.resa.cli.KernelCommand;
import dev.resa.cli.KernelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./resa bench kernel}: installs the kernel into a temporary Jupyter path (as {@code ./resa kernel install}
 * does, class-data-sharing archive included) and runs {@code kernel/src/bench/kernel_bench.py} through Debian's
 * jupyter_client: cold start to the first result (target 3 s) and the median round trip of two trivial cells (a literal
 * expression and a variable declaration plus use; target 50 ms), with the kernel_info round trip (messaging alone),
 * the execute_reply time and the kernel's CPU time per cell; then the latency of declaration cells at cells 10, 100 and
 * 300 of one session (target: within 2x of cell 10).
 */
@Command(name = "kernel", mixinStandardHelpOptions = true,
    description = "Jupyter kernel latency: cold start to first result, and a trivial cell's round trip.")
public final class BenchKernelCommand implements Callable<Integer> {
  @Option(names = "--starts", defaultValue = "3", description = "Cold starts to time (default: ${DEFAULT-VALUE}).")
  int starts;

  @Option(names = "--cells", defaultValue = "30", description = "Trivial cells to time (default: ${DEFAULT-VALUE}).")
  int cells;

  @Option(names = "--session-cells", defaultValue = "305", description = "Declaration cells in one long session, "
      + "timed at cells 10, 100 and 300 (0 skips it; default: ${DEFAULT-VALUE}).")
  int sessionCells;

  @Option(names = "--settle", defaultValue = "0", description = "Seconds the kernel sits idle after its first result "
      + "before the timed cells, as a user reading the notebook would leave it (default: ${DEFAULT-VALUE}).")
  double settle;

  @Option(names = "--python", defaultValue = "/usr/bin/python3",
      description = "A python with jupyter_client (default: ${DEFAULT-VALUE}).")
  String python;

  @Override
  public Integer call() throws IOException, InterruptedException {
    Path home = KernelCommand.ResaHome.locate();
    Path prefix = Files.createTempDirectory("resa-kernel-bench");
    Path dataDir = KernelSpec.dataDir(prefix, System.getenv());
    try {
      KernelSpec spec = KernelCommand.installSpec("resa-java-bench", "Java (Resa, bench)", null, List.of(), true, dataDir);
      ProcessBuilder pb = new ProcessBuilder(python, home.resolve("kernel/src/bench/kernel_bench.py").toString(),
          "--kernel", spec.name(), "--starts", String.valueOf(starts), "--cells", String.valueOf(cells),
          "--settle", String.valueOf(settle),
          "--session-cells", String.valueOf(sessionCells)).inheritIO();
      pb.environment().put("JUPYTER_PATH", dataDir.toString());
      pb.environment().put("JUPYTER_DATA_DIR", prefix.resolve("data").toString()); // the bench's cell history
      pb.environment().put("PYDEVD_DISABLE_FILE_VALIDATION", "1");
      return pb.start().waitFor();
    } finally {
      KernelSpec.remove(dataDir, "resa-java-bench");
    }
  }
}
