package dev.resa.eval;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad data gives errors that say which file, which line and what is wrong. */
class BadInputTest {
  private static final String GOOD = "{\"problem\": \"1+1?\", \"solution\": \"\\\\boxed{2}\", \"answer\": \"2\", \"unique_id\": \"t/1\"}";

  @Test
  void aMalformedJsonlLineIsReportedWithFileAndLine(@TempDir Path data) throws Exception {
    Files.createDirectories(data.resolve("math500"));
    Files.writeString(data.resolve("math500/test.jsonl"), GOOD + "\n{\"problem\": \"oops\", \n" + GOOD + "\n");
    var e = assertThrows(IllegalArgumentException.class, () -> Benchmark.MATH500.load(data));
    assertTrue(e.getMessage().contains("math500/test.jsonl:2: malformed JSON line"), e.getMessage());
  }

  @Test
  void aRecordWithoutAnAnswerIsReportedWithFileAndLine(@TempDir Path data) throws Exception {
    Files.createDirectories(data.resolve("aime24"));
    Files.writeString(data.resolve("aime24/test.jsonl"),
        "{\"id\": 1, \"problem\": \"p\", \"solution\": \"s\", \"answer\": \"025\"}\n{\"id\": 2, \"problem\": \"p\", \"solution\": \"s\"}\n");
    var e = assertThrows(IllegalArgumentException.class, () -> Benchmark.AIME24.load(data));
    assertTrue(e.getMessage().contains("aime24/test.jsonl:2: record has no 'answer' field"), e.getMessage());
  }

  @Test
  void aMinervaSolutionWithoutABoxedAnswerIsReported(@TempDir Path data) throws Exception {
    Files.createDirectories(data.resolve("minerva_math"));
    Files.writeString(data.resolve("minerva_math/test.jsonl"), "{\"idx\": 0, \"problem\": \"p\", \"solution\": \"no box here\"}\n");
    var e = assertThrows(IllegalArgumentException.class, () -> Benchmark.MINERVA.load(data));
    assertTrue(e.getMessage().contains("minerva_math/test.jsonl:1: solution has no \\boxed{} answer"), e.getMessage());
  }

  @Test
  void anUnknownBenchmarkNameListsTheKnownOnes() {
    var e = assertThrows(IllegalArgumentException.class, () -> Benchmark.list("math500,math501"));
    assertTrue(e.getMessage().contains("unknown benchmark 'math501'") && e.getMessage().contains("aime24"), e.getMessage());
  }

  @Test
  void aMissingDataDirectoryOrFileIsNamed(@TempDir Path tmp) throws Exception {
    Path missing = tmp.resolve("nowhere");
    var e = assertThrows(IllegalStateException.class, () -> Benchmark.MATH500.load(missing));
    assertTrue(e.getMessage().contains("data directory not found: " + missing), e.getMessage());
    var f = assertThrows(NoSuchFileException.class, () -> Benchmark.GSM8K.load(tmp));
    assertTrue(f.getMessage().contains("gsm8k/test.jsonl") && f.getMessage().contains("--data-dir"), f.getMessage());
  }

  @Test
  void gradeJsonlReportsTheBadLine(@TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("pairs.jsonl");
    Files.writeString(in, "{\"pred\": \"1\", \"ref\": \"1\"}\n{\"pred\": \"1\"}\n");
    var e = assertThrows(IllegalArgumentException.class, () -> dev.resa.cli.GradeCommand.gradeJsonl(in, new Grader(), new StringBuilder()));
    assertTrue(e.getMessage().contains("pairs.jsonl:2: record has no 'ref' field"), e.getMessage());
  }
}
