package dev.resa.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.resa.eval.DataFiles;
import dev.resa.eval.Grader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code ./resa grade}: the answer checker alone, for one pair or a JSONL file of pairs. */
@Command(name = "grade", mixinStandardHelpOptions = true,
    description = {"Check answers the way the evaluation does (math-verify style).",
        "  ./resa grade '\\frac{1}{2}' 0.5          prints true or false",
        "  ./resa grade --jsonl pairs.jsonl          lines {\"pred\": ..., \"ref\": ...} (ref may be a list);",
        "                                            prints each line back with an \"equal\" field, in order"})
public final class GradeCommand implements Callable<Integer> {
  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  @Spec CommandSpec spec;

  @Parameters(arity = "0..2", paramLabel = "PRED REF", description = "A predicted and a reference answer (LaTeX).")
  List<String> pair = new ArrayList<>();

  @Option(names = "--jsonl", paramLabel = "FILE", description = "Grade every {\"pred\", \"ref\"} line of FILE.")
  Path jsonl;

  @Option(names = "--timeout-ms", defaultValue = "5000", description = "Limit per comparison (default: ${DEFAULT-VALUE}).")
  long timeoutMs;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    Grader grader = new Grader(java.time.Duration.ofMillis(timeoutMs));
    if (jsonl != null) {
      if (!pair.isEmpty()) throw new ParameterException(spec.commandLine(), "give either PRED REF or --jsonl, not both");
      StringBuilder sb = new StringBuilder();
      gradeJsonl(jsonl, grader, sb);
      out.print(sb);
    } else {
      if (pair.size() != 2) throw new ParameterException(spec.commandLine(), "expected PRED and REF (or --jsonl FILE)");
      out.println(grader.equal(pair.get(0), pair.get(1)));
    }
    out.flush();
    return 0;
  }

  /** Appends one JSON line per input line: the input object plus {@code "equal"}. Bad lines fail naming file:line. */
  public static void gradeJsonl(Path file, Grader grader, Appendable out) throws IOException {
    if (!Files.isRegularFile(file)) throw new java.nio.file.NoSuchFileException(file.toString());
    for (DataFiles.Row row : DataFiles.jsonl(file)) {
      String pred = row.string("pred");
      if (!row.has("ref")) throw new IllegalArgumentException(row.where() + ": record has no 'ref' field");
      JsonObject o = row.json();
      List<String> refs = new ArrayList<>();
      if (o.get("ref").isJsonArray()) o.getAsJsonArray("ref").forEach(x -> refs.add(x.getAsString()));
      else refs.add(o.get("ref").getAsString());
      o.addProperty("equal", grader.equalAny(pred, refs));
      out.append(GSON.toJson(o)).append('\n');
    }
  }
}
