package dev.resa.kernel;

import java.nio.file.Files;
import java.nio.file.Path;
import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;

/** Entry point Jupyter starts (see the kernelspec written by {@code ./resa kernel install}). */
public final class KernelMain {
  private KernelMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: KernelMain <connection file> | --warmup   (started by Jupyter; see ./resa kernel install)");
      System.exit(2);
    }
    if (args[0].equals("--warmup")) {
      warmup();
      System.exit(0);
    }
    KernelConnectionProperties props = KernelConnectionProperties.parse(Files.readString(Path.of(args[0])));
    ResaKernel kernel = new ResaKernel();
    JupyterConnection connection = new KernelConnection(props);
    kernel.onStartup();
    kernel.becomeHandlerForConnection(connection);
    connection.connect();
    kernel.startCompilerWarmup();
    connection.waitUntilClose();
    System.exit(0); // notebook code may have left non-daemon threads behind
  }

  /**
   * Runs typical first cells without Jupyter. {@code ./resa kernel install} runs this once with
   * {@code -XX:ArchiveClassesAtExit} to build a class-data-sharing archive that makes later kernel starts faster.
   */
  static void warmup() {
    ResaKernel kernel = new ResaKernel();
    JShellEvaluator ev = kernel.evaluator();
    ev.eval("int warm = 20;\nString text = \"warm\";");
    ev.eval("text + (warm * 2 + 2)");
    Displays.render(ev.eval("tech.tablesaw.api.Table.create(\"t\", tech.tablesaw.api.DoubleColumn.create(\"x\", 1, 2))"),
        kernel.getRenderer());
    Displays.render(ev.eval("dev.resa.viz.Plots.bars(\"w\", \"y\", Map.of(\"a\", 1.0))"), kernel.getRenderer());
    for (String failing : new String[] {"int bad = \"x\";", "Integer.parseInt(\"x\")"}) {
      try {
        ev.eval(failing);
      } catch (CellError expected) {
        // warms the error paths too
      }
    }
    ev.close();
  }
}
