package dev.resa.eval;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonSyntaxException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads benchmark files (and the CLI's JSONL inputs) into JSON objects, with errors that name the file and the line
 * (or array element).
 */
public final class DataFiles {
  private DataFiles() {}

  /** A record plus where it came from, for error messages ("math500/test.jsonl:17"). */
  public record Row(JsonObject json, String where) {
    /** The field as a string; fails naming the line when it is missing, null, an object or an array. */
    public String string(String key) {
      JsonElement e = json.get(key);
      if (e == null || e.isJsonNull()) throw new IllegalArgumentException(where + ": record has no '" + key + "' field");
      if (!e.isJsonPrimitive()) throw new IllegalArgumentException(where + ": field '" + key + "' is not a string or number");
      return e.getAsString();
    }

    public boolean has(String key) {
      return json.has(key) && !json.get(key).isJsonNull();
    }
  }

  /** One object per non-blank line; a malformed line or a non-object fails naming {@code file:line}. */
  public static List<Row> jsonl(Path file) throws IOException {
    requireFile(file);
    List<Row> rows = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int n = 0;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank()) continue;
        String where = file + ":" + n;
        try {
          JsonElement e = JsonParser.parseString(line);
          if (!e.isJsonObject()) throw new IllegalArgumentException(where + ": expected a JSON object, got " + kind(e));
          rows.add(new Row(e.getAsJsonObject(), where));
        } catch (JsonSyntaxException e) {
          throw new IllegalArgumentException(where + ": malformed JSON line (" + rootMessage(e) + ")", e);
        }
      }
    }
    return rows;
  }

  /** A file holding one JSON array of objects; {@code .gz} files are decompressed on the fly. */
  static List<Row> jsonArray(Path file) throws IOException {
    requireFile(file);
    JsonElement root;
    try (InputStream raw = Files.newInputStream(file);
         InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
      root = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    } catch (JsonSyntaxException e) {
      throw new IllegalArgumentException(file + ": malformed JSON (" + rootMessage(e) + ")", e);
    }
    if (!root.isJsonArray()) throw new IllegalArgumentException(file + ": expected a JSON array, got " + kind(root));
    List<Row> rows = new ArrayList<>();
    int i = 0;
    for (JsonElement e : root.getAsJsonArray()) {
      String where = file + ": element " + i++;
      if (!e.isJsonObject()) throw new IllegalArgumentException(where + ": expected a JSON object, got " + kind(e));
      rows.add(new Row(e.getAsJsonObject(), where));
    }
    return rows;
  }

  private static void requireFile(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new java.nio.file.NoSuchFileException(file.toString(), null,
          "benchmark file not found (is --data-dir / RESA_DATA_DIR pointing at the shared data folder?)");
    }
  }

  private static String kind(JsonElement e) {
    return e.isJsonArray() ? "an array" : e.isJsonNull() ? "null" : e.isJsonPrimitive() ? "a value" : "an object";
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null) t = t.getCause();
    return t.getMessage();
  }
}
