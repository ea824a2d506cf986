package dev.resa.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny JSONL training corpus for CLI tests that train a model: line i is {@code {"text": "i+(i%7)=sum"}}; and
 * {@code train-lm} making a tiny model of it.
 */
final class SumsCorpus {
  private SumsCorpus() {}

  static Path write(Path file, int lines) throws IOException {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < lines; i++) out.add("{\"text\": \"" + i + "+" + (i % 7) + "=" + (i + i % 7) + "\"}");
    return Files.write(file, out);
  }

  /** Runs {@code train-lm} on {@code data} for a tiny model (hidden 32, 2 layers, 32-token chunks) in {@code out}, plus {@code more} options; its exit code. */
  static int trainTinyLm(Path data, Path out, String... more) {
    List<String> args = new ArrayList<>(List.of("train-lm", "--data", data.toString(), "--hidden", "32", "--layers", "2", "--heads", "4",
        "--kv-heads", "2", "--intermediate", "64", "--seq-len", "32", "--batch", "4", "--device", "cpu", "--out", out.toString()));
    args.addAll(List.of(more));
    return Main.commandLine().execute(args.toArray(String[]::new));
  }
}
