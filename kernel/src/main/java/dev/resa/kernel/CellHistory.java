package dev.resa.kernel;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The user's input history across kernel restarts, for Jupyter's {@code history_request} (tail, range, search), kept
 * as one JSON line per cell in {@code <jupyter data dir>/resa-java/history.jsonl}. Each kernel start is a new session
 * numbered one past the highest in the file. The file keeps the newest {@link #KEEP} cells (trimmed at start).
 * A file that cannot be read or written only costs the history: the kernel works on, in memory.
 */
final class CellHistory {
  /** Cells kept on disk; older ones are dropped when a kernel starts (IPython keeps everything; this stays small). */
  static final int KEEP = 10_000;

  /** One executed cell; {@code output} is the text/plain result, or null. */
  record Entry(int session, int line, String input, String output) {}

  private static final Gson GSON = new Gson();
  private final Path file;
  private final List<Entry> entries = new ArrayList<>();
  private final int session;
  private boolean writable = true;

  CellHistory(Path file) {
    this.file = file;
    int last = 0;
    try {
      if (file != null && Files.isRegularFile(file)) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          try {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            Entry e = new Entry(o.get("session").getAsInt(), o.get("line").getAsInt(), o.get("input").getAsString(),
                o.has("output") && !o.get("output").isJsonNull() ? o.get("output").getAsString() : null);
            entries.add(e);
            last = Math.max(last, e.session());
          } catch (RuntimeException torn) {
            // a line torn by a crash mid-write: skip it
          }
        }
        if (entries.size() > KEEP) {
          entries.subList(0, entries.size() - KEEP).clear();
          List<String> lines = entries.stream().map(CellHistory::json).toList();
          dev.resa.io.AtomicFiles.writeString(file, String.join("\n", lines) + "\n");
        }
      }
    } catch (IOException | RuntimeException e) {
      writable = false;
    }
    session = last + 1;
  }

  /** The history file for this user: {@code $JUPYTER_DATA_DIR} or the platform's Jupyter data dir. */
  static Path defaultFile() {
    return dev.resa.cli.KernelSpec.dataDir(null, System.getenv()).resolve("resa-java").resolve("history.jsonl");
  }

  int session() {
    return session;
  }

  synchronized void add(int line, String input, String output) {
    Entry e = new Entry(session, line, input, output);
    entries.add(e);
    if (file == null || !writable) return;
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, json(e) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException | RuntimeException ex) {
      writable = false; // e.g. a read-only home: keep the history in memory only
    }
  }

  /** The last {@code n} cells, oldest first, over all sessions. */
  synchronized List<Entry> tail(int n) {
    return List.copyOf(entries.subList(Math.max(0, entries.size() - Math.max(0, n)), entries.size()));
  }

  /**
   * Cells {@code start <= line < stop} of a session; {@code session <= 0} counts back from this one (0 = this one),
   * {@code stop <= 0} means to the end (as IPython's history ranges).
   */
  synchronized List<Entry> range(int session, int start, int stop) {
    int s = session > 0 ? session : this.session + session;
    return entries.stream()
        .filter(e -> e.session() == s && e.line() >= start && (stop <= 0 || e.line() < stop)).toList();
  }

  /**
   * Cells whose input matches the glob {@code pattern} ({@code *}, {@code ?}; case-sensitive, the whole input, as
   * IPython's search), oldest first; the last {@code n} only when {@code n > 0}; with {@code unique} only the latest
   * cell of each distinct input.
   */
  synchronized List<Entry> search(String pattern, int n, boolean unique) {
    Pattern regex = glob(pattern == null || pattern.isEmpty() ? "*" : pattern);
    List<Entry> hits = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = entries.size() - 1; i >= 0 && (n <= 0 || hits.size() < n); i--) {
      Entry e = entries.get(i);
      if (!regex.matcher(e.input()).matches()) continue;
      if (unique && !seen.add(e.input())) continue;
      hits.add(0, e);
    }
    return hits;
  }

  static Pattern glob(String glob) {
    StringBuilder re = new StringBuilder();
    for (char c : glob.toCharArray()) {
      if (c == '*') re.append(".*");
      else if (c == '?') re.append('.');
      else re.append(Pattern.quote(String.valueOf(c)));
    }
    return Pattern.compile(re.toString(), Pattern.DOTALL);
  }

  private static String json(Entry e) {
    JsonObject o = new JsonObject();
    o.addProperty("session", e.session());
    o.addProperty("line", e.line());
    o.addProperty("input", e.input());
    if (e.output() != null) o.addProperty("output", e.output());
    return GSON.toJson(o);
  }
}
