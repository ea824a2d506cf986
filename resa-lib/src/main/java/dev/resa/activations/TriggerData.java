package dev.resa.activations;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads problem/answer records (.jsonl, or a .json array) and formats them with the {@link TriggerTemplate}, as
 * Resa's preprocessing does: the question field is {@code problem}, else {@code question}, else {@code prompt};
 * the answer field is {@code answer}, used as is.
 */
public final class TriggerData {
  private TriggerData() {}

  /** At most {@code limit} formatted examples (all when ≤ 0), in file order. */
  public static List<String> load(Path file, int limit) throws IOException {
    if (!Files.isRegularFile(file)) throw new IOException("data file not found: " + file);
    List<JsonObject> records = new ArrayList<>();
    String name = file.getFileName().toString();
    if (name.endsWith(".jsonl")) {
      int line = 0;
      for (String s : Files.readAllLines(file)) {
        line++;
        if (s.isBlank()) continue;
        try {
          records.add(JsonParser.parseString(s).getAsJsonObject());
        } catch (RuntimeException e) {
          throw new IOException(file + ":" + line + ": not a JSON object", e);
        }
        if (limit > 0 && records.size() == limit) break;
      }
    } else {
      JsonElement root = JsonParser.parseString(Files.readString(file));
      if (!root.isJsonArray()) throw new IOException(file + ": expected a JSON array of records");
      JsonArray a = root.getAsJsonArray();
      for (int i = 0; i < a.size() && (limit <= 0 || i < limit); i++) records.add(a.get(i).getAsJsonObject());
    }
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      JsonObject o = records.get(i);
      String q = field(o, "problem", "question", "prompt");
      String answer = field(o, "answer");
      if (q == null || answer == null) {
        throw new IOException(file + ": record " + (i + 1) + " lacks 'problem'/'question'/'prompt' or 'answer' (has " + o.keySet() + ")");
      }
      texts.add(TriggerTemplate.format(q, answer));
    }
    return texts;
  }

  private static String field(JsonObject o, String... keys) {
    for (String k : keys) {
      JsonElement e = o.get(k);
      if (e != null && !e.isJsonNull()) return e.isJsonPrimitive() ? e.getAsString() : e.toString();
    }
    return null;
  }
}
