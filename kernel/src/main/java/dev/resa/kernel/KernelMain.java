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
      System.err.println("usage: KernelMain <connection file>   (started by Jupyter; install with ./resa kernel install)");
      System.exit(2);
    }
    KernelConnectionProperties props = KernelConnectionProperties.parse(Files.readString(Path.of(args[0])));
    ResaKernel kernel = new ResaKernel();
    JupyterConnection connection = new JupyterConnection(props);
    kernel.onStartup();
    kernel.becomeHandlerForConnection(connection);
    connection.connect();
    connection.waitUntilClose();
    System.exit(0); // notebook code may have left non-daemon threads behind
  }
}
