package dev.resa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code ./resa --help} and every (sub-)subcommand's {@code --help}: usage on stdout, exit 0, {@code --verbose} listed. */
class MainCommandTest {
  @Test
  void everyCommandPrintsItsHelp() {
    List<List<String>> paths = new ArrayList<>();
    collect(Main.commandLine(), new ArrayList<>(), paths);
    assertTrue(paths.size() > 15, "commands found: " + paths);
    for (List<String> path : paths) {
      StringWriter out = new StringWriter(), err = new StringWriter();
      CommandLine cl = Main.commandLine();
      cl.setOut(new PrintWriter(out));
      cl.setErr(new PrintWriter(err));
      List<String> args = new ArrayList<>(path);
      args.add("--help");
      assertEquals(0, cl.execute(args.toArray(String[]::new)), path + ": " + err);
      String usage = "Usage: " + "resa" + (path.isEmpty() ? "" : " " + String.join(" ", path));
      assertTrue(out.toString().startsWith(usage), path + " printed:\n" + out);
      assertTrue(out.toString().contains(CliErrors.VERBOSE), path + " does not offer --verbose:\n" + out);
    }
  }

  private static void collect(CommandLine cl, List<String> path, List<List<String>> out) {
    out.add(List.copyOf(path));
    for (var e : cl.getSubcommands().entrySet()) {
      List<String> sub = new ArrayList<>(path);
      sub.add(e.getKey());
      collect(e.getValue(), sub, out);
    }
  }
}
