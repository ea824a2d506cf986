package dev.resa.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A tiny JSONL training corpus for CLI tests that train a model: line i is {@code {"text": "i+(i%7)=sum"}}. */
final class SumsCorpus {
  private SumsCorpus() {}

  static Path write(Path file, int lines) throws IOException {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < lines; i++) out.add("{\"text\": \"" + i + "+" + (i % 7) + "=" + (i + i % 7) + "\"}");
    return Files.write(file, out);
  }
}
