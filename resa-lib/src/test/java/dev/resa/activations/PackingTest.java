package dev.resa.activations;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resa.tokenizer.CharTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackingTest {
  private final CharTokenizer tok = new CharTokenizer("abcdef"); // ids: specials 0..4 (eos = 2), a = 5, b = 6, ...

  @Test
  void streamStartsWithEosCrossesChunksAndDropsThePartialTail() {
    // stream: EOS a b c EOS d e EOS f  (9 tokens) -> chunks of 4: [EOS a b c] [EOS d e EOS], "f" dropped
    List<long[]> chunks = Packing.pack(List.of("abc", "de", "f"), tok, 4);
    int eos = tok.eosId(), a = tok.tokenId("a").getAsInt();
    assertEquals(2, chunks.size());
    assertArrayEquals(new long[] {eos, a, a + 1, a + 2}, chunks.get(0));
    assertArrayEquals(new long[] {eos, a + 3, a + 4, eos}, chunks.get(1));
    assertEquals(8, Packing.tokenCount(chunks));
  }

  @Test
  void everyStreamOfDocumentsStartsAfreshAndDropsItsOwnTail() {
    // streams of 2 documents: "EOS a b EOS c" and "EOS d e"; chunks of 2: [EOS a] [b EOS] (c dropped), [EOS d] (e dropped)
    List<long[]> chunks = Packing.pack(List.of("ab", "c", "de"), tok, 2, 2);
    int eos = tok.eosId(), a = tok.tokenId("a").getAsInt();
    assertEquals(3, chunks.size());
    assertArrayEquals(new long[] {eos, a}, chunks.get(0));
    assertArrayEquals(new long[] {a + 1, eos}, chunks.get(1));
    assertArrayEquals(new long[] {eos, a + 3}, chunks.get(2));
    assertEquals(2048, Packing.DOCS_PER_STREAM);
    assertThrows(IllegalArgumentException.class, () -> Packing.pack(List.of("ab"), tok, 2, 0));
  }

  @Test
  void exactMultipleKeepsEveryTokenAndShortCorpusGivesNothing() {
    assertEquals(3, Packing.pack(List.of("ab", "cd", "ef"), tok, 3).size()); // 9 tokens, 3 chunks
    assertTrue(Packing.pack(List.of("ab"), tok, 10).isEmpty());
    assertThrows(IllegalArgumentException.class, () -> Packing.pack(List.of("ab"), tok, 0));
  }

  @Test
  void readsTextLinesAndJsonlFields(@TempDir Path dir) throws IOException {
    Path txt = dir.resolve("corpus.txt");
    Files.writeString(txt, "first line\n\n  \nsecond line\n");
    assertEquals(List.of("first line", "second line"), Packing.readDocuments(txt, "text"));
    Path jsonl = dir.resolve("corpus.jsonl");
    Files.writeString(jsonl, "{\"problem\": \"1+1\", \"id\": 3}\n\n{\"problem\": \"line\\nbreak\"}\n");
    assertEquals(List.of("1+1", "line\nbreak"), Packing.readDocuments(jsonl, "problem"));
  }

  @Test
  void badJsonlNamesFileLineAndField(@TempDir Path dir) throws IOException {
    Path jsonl = dir.resolve("bad.jsonl");
    Files.writeString(jsonl, "{\"text\": \"ok\"}\n{\"body\": \"no text\"}\n");
    IOException e = assertThrows(IOException.class, () -> Packing.readDocuments(jsonl, "text"));
    assertTrue(e.getMessage().contains("bad.jsonl:2") && e.getMessage().contains("'text'"), e.getMessage());
    Files.writeString(jsonl, "not json\n");
    e = assertThrows(IOException.class, () -> Packing.readDocuments(jsonl, "text"));
    assertTrue(e.getMessage().contains("bad.jsonl:1"), e.getMessage());
    assertThrows(IOException.class, () -> Packing.readDocuments(dir.resolve("missing.txt"), "text"));
  }
}
