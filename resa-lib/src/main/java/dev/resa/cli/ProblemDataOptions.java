package dev.resa.cli;

import dev.resa.eval.DataFiles;
import dev.resa.eval.Problem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The training problems of {@code grpo}: a JSONL file with a prompt and a gold answer per line. */
final class ProblemDataOptions {
  @Option(names = "--data", required = true, description = "JSONL file: one problem per line.")
  Path data;

  @Option(names = "--prompt-field", defaultValue = "problem", description = "Field with the prompt (default: ${DEFAULT-VALUE}).")
  String promptField;

  @Option(names = "--answer-field", defaultValue = "answer", description = "Field with the gold answer (default: ${DEFAULT-VALUE}).")
  String answerField;

  /** Every non-blank line as a problem, read by the benchmarks' reader: a bad line or a missing field names file:line. */
  List<Problem> problems() throws IOException {
    List<Problem> out = new ArrayList<>();
    for (DataFiles.Row row : DataFiles.jsonl(data)) {
      String where = row.where();
      out.add(new Problem("line " + where.substring(where.lastIndexOf(':') + 1), row.string(promptField), List.of(row.string(answerField)), List.of(), null));
    }
    if (out.isEmpty()) throw new IOException(data + ": no problems");
    return out;
  }
}
