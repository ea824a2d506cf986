package dev.resa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
      List<String> args = new ArrayList<>(path);
      args.add("--help");
      CliRun r = CliRun.of(args.toArray(String[]::new));
      assertEquals(0, r.code(), path + ": " + r.err());
      String usage = "Usage: resa" + (path.isEmpty() ? "" : " " + String.join(" ", path));
      assertTrue(r.out().startsWith(usage), path + " printed:\n" + r.out());
      assertTrue(r.out().contains(CliErrors.VERBOSE), path + " does not offer --verbose:\n" + r.out());
      assertTrue(r.err().isEmpty(), path + " wrote to stderr:\n" + r.err());
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
