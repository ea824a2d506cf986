package dev.resa.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CellHistoryTest {
  @TempDir Path dir;

  private static List<String> inputs(List<CellHistory.Entry> entries) {
    return entries.stream().map(CellHistory.Entry::input).toList();
  }

  @Test
  void sessionsPersistAcrossRestartsAndTornLinesAreSkipped() throws Exception {
    Path file = dir.resolve("h/history.jsonl");
    CellHistory first = new CellHistory(file);
    assertEquals(1, first.session());
    first.add(1, "int a = 1;", null);
    first.add(2, "a + 1", "2");
    Files.writeString(file, "{\"session\": 1, \"li", java.nio.file.StandardOpenOption.APPEND); // a crash mid-write

    CellHistory second = new CellHistory(file);
    assertEquals(2, second.session());
    second.add(1, "6 * 7", "42");
    assertEquals(List.of("a + 1", "6 * 7"), inputs(second.tail(2)));
    assertEquals(List.of(new CellHistory.Entry(1, 2, "a + 1", "2")), second.range(1, 2, 3));
    assertEquals(List.of("6 * 7"), inputs(second.range(0, 1, 0))); // 0 = this session, stop 0 = to the end
    assertEquals(List.of("int a = 1;", "a + 1"), inputs(second.range(-1, 0, 0))); // one session back
  }

  @Test
  void searchIsAWholeInputGlobNewestLastWithUniqueAndN() {
    CellHistory h = new CellHistory(null);
    for (String s : List.of("6 * 7", "x = 1", "6 * 7", "6 * 8", "6 * 7")) h.add(1, s, null);
    assertEquals(List.of("6 * 7", "6 * 7", "6 * 7"), inputs(h.search("6 ? 7", 0, false)));
    assertEquals(List.of("6 * 8", "6 * 7"), inputs(h.search("6*", 0, true)));
    assertEquals(List.of("6 * 8", "6 * 7"), inputs(h.search("6*", 2, false)));
    assertEquals(List.of(), inputs(h.search("6", 0, false))); // the whole input, not a substring
  }
}
