package dev.resa.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One {@code ./resa} invocation run in-process through picocli, with its exit code and captured stdout / stderr. */
record CliRun(int code, String out, String err) {
  static CliRun of(String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    var cl = Main.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }
}
