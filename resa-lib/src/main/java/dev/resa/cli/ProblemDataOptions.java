package dev.resa.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.eval.Problem;
import java.io.IOException;
import java.nio.file.Files;
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

  /** Every non-blank line as a problem; a bad line fails naming file:line. */
  List<Problem> problems() throws IOException {
    if (!Files.isRegularFile(data)) throw new IOException("data file not found: " + data);
    List<Problem> out = new ArrayList<>();
    List<String> lines = Files.readAllLines(data);
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).isBlank()) continue;
      JsonObject o;
      try {
        o = JsonParser.parseString(lines.get(i)).getAsJsonObject();
      } catch (RuntimeException e) {
        throw new IOException(data + ":" + (i + 1) + ": not a JSON object: " + e.getMessage(), e);
      }
      for (String f : List.of(promptField, answerField)) {
        if (!o.has(f) || o.get(f).isJsonNull()) throw new IOException(data + ":" + (i + 1) + ": missing field '" + f + "'");
      }
      out.add(new Problem("line " + (i + 1), o.get(promptField).getAsString(), List.of(o.get(answerField).getAsString()), List.of(), null));
    }
    if (out.isEmpty()) throw new IOException(data + ": no problems");
    return out;
  }
}
