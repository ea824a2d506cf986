package dev.resa.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** The full harness (prompt, generate, extract, check) with stand-in models whose scores are known. */
class HarnessTest {
  private static EvalConfig config() {
    return EvalConfig.paper(64).withBatchSize(64);
  }

  @Test
  void anOracleScoresFullMarksOnEveryBenchmark() throws Exception {
    Path data = TestData.dir();
    for (Benchmark b : Benchmark.values()) {
      List<Problem> problems = b.load(data);
      Evaluator.Result r = new Evaluator(Backends.oracle(problems, Prompts.LIGHTEVAL), config()).run(b.key, problems, null);
      List<String> wrong = new ArrayList<>();
      Table t = r.table();
      for (int i = 0; i < t.rowCount(); i++) {
        if (!t.booleanColumn("correct").get(i)) wrong.add(t.stringColumn("problem_id").get(i) + " -> " + t.stringColumn("extracted").get(i));
      }
      assertEquals(List.of(), wrong, b.key + ": the oracle must be graded correct everywhere");
      assertEquals(1.0, r.summary().pass1(), b.key);
      assertEquals(problems.size(), r.summary().problems());
    }
  }

  /** Counts reference answers that are the number zero, straight from the raw files (no project code involved). */
  private static int zerosInData(Path data, Benchmark b) throws IOException {
    int zeros = 0;
    for (String answer : rawAnswers(data, b)) {
      try {
        if (Double.parseDouble(answer.strip().replace(",", "")) == 0) zeros++;
      } catch (NumberFormatException notANumber) {
        // "x = 0"-style answers would also be right for "0": count them by hand if the data ever has one
        if (answer.replace(" ", "").matches("[a-z]=0")) zeros++;
      }
    }
    return zeros;
  }

  private static List<String> rawAnswers(Path data, Benchmark b) throws IOException {
    List<String> out = new ArrayList<>();
    Path f = data.resolve(b.file);
    switch (b) {
      case GPQA -> {
        try (var in = new InputStreamReader(new GZIPInputStream(Files.newInputStream(f)), StandardCharsets.UTF_8)) {
          for (JsonElement e : JsonParser.parseReader(in).getAsJsonArray()) out.add("letter");
        }
      }
      case MATH_TRAIN -> {
        for (JsonElement e : JsonParser.parseString(Files.readString(f)).getAsJsonArray()) {
          JsonElement a = e.getAsJsonObject().get("answer");
          if (a != null && !a.isJsonNull() && !a.getAsString().isBlank()) out.add(a.getAsString());
        }
      }
      default -> {
        for (String line : Files.readAllLines(f)) {
          var o = JsonParser.parseString(line).getAsJsonObject();
          String a = switch (b) {
            case MINERVA -> lastBoxedByHand(o.get("solution").getAsString());
            case GSM8K -> o.get("answer").getAsString().replaceAll("(?s).*####", "");
            default -> o.get("answer").getAsString();
          };
          out.add(a);
        }
      }
    }
    return out;
  }

  private static String lastBoxedByHand(String s) {
    int start = s.lastIndexOf("\\boxed{") + 7, depth = 1, i = start;
    for (; depth > 0; i++) depth += s.charAt(i) == '{' ? 1 : s.charAt(i) == '}' ? -1 : 0;
    return s.substring(start, i - 1);
  }

  @Test
  void aModelThatAlwaysSaysZeroScoresTheShareOfZeroAnswers() throws Exception {
    Path data = TestData.dir();
    for (Benchmark b : Benchmark.values()) {
      List<Problem> problems = b.load(data);
      Evaluator.Result r = new Evaluator(Backends.constant("0"), config()).run(b.key, problems, null);
      int correct = (int) Math.round(r.summary().pass1() * problems.size());
      assertEquals(zerosInData(data, b), correct, b.key);
    }
    List<Problem> math = Benchmark.MATH500.load(data);
    assertEquals(7, zerosInData(data, Benchmark.MATH500), "MATH500 has seven answers equal to 0");
    assertEquals(0.014, new Evaluator(Backends.constant("0"), config()).run("math500", math, null).summary().pass1(), 1e-12);
  }

  @Test
  void severalSamplesArePassAtOneAveragedOverSamples() throws Exception {
    List<Problem> ps = List.of(new Problem("a", "1+1?", List.of("2"), List.of(), null), new Problem("b", "2+2?", List.of("4"), List.of(), null));
    // answers "2" on every other call: problem a right in the samples that get "2", problem b never
    Backend alternating = new Backend() {
      int calls;

      @Override
      public List<Completion> complete(List<String> prompts, Sampling s) {
        List<Completion> out = new ArrayList<>();
        for (String p : prompts) out.add(new Completion(calls++ % 2 == 0 ? "\\boxed{2}" : "\\boxed{5}", 3));
        return out;
      }

      @Override
      public String name() {
        return "alternating";
      }
    };
    Evaluator.Result r = new Evaluator(alternating, config().withSamples(4).withBatchSize(3)).run("toy", ps, null);
    assertEquals(8, r.table().rowCount());
    assertEquals(4, r.summary().samplesPerProblem());
    // calls 0..7 in problem-major order: a gets calls 0-3 (2 right), b gets 4-7 (never right: reference 4)
    assertEquals((2 / 4.0 + 0) / 2, r.summary().pass1(), 1e-12);
    assertEquals(3.0, r.summary().meanTokens(), 1e-12);
  }

  @Test
  void anInterruptedRunResumesWhereItStopped(@TempDir Path out) throws Exception {
    List<Problem> ps = new ArrayList<>();
    for (int i = 0; i < 10; i++) ps.add(new Problem("p" + i, "what is " + i + "?", List.of(String.valueOf(i)), List.of(), null));
    EvalConfig cfg = config().withSamples(2).withBatchSize(4);
    List<String> seen = new ArrayList<>();
    Backend echo = new Backend() {
      @Override
      public List<Completion> complete(List<String> prompts, Sampling s) {
        if (seen.size() >= 8) throw new IllegalStateException("simulated crash after two batches");
        seen.addAll(prompts);
        List<Completion> c = new ArrayList<>();
        for (String p : prompts) c.add(new Completion("\\boxed{" + p.replaceAll("(?s).*what is (\\d+)\\?.*", "$1") + "}", 5));
        return c;
      }

      @Override
      public String name() {
        return "echo";
      }
    };
    assertThrows(IllegalStateException.class, () -> new Evaluator(echo, cfg).run("toy", ps, out));
    assertEquals(8, Files.readAllLines(out.resolve("toy/samples.jsonl")).size(), "two batches were saved");
    seen.clear();
    List<String> resumed = new ArrayList<>();
    Backend counting = new Backend() {
      @Override
      public List<Completion> complete(List<String> prompts, Sampling s) {
        resumed.addAll(prompts);
        seen.clear();
        return echo.complete(prompts, s);
      }

      @Override
      public String name() {
        return "echo";
      }
    };
    Evaluator.Result r = new Evaluator(counting, cfg).run("toy", ps, out);
    assertEquals(12, resumed.size(), "only the 20 - 8 missing samples are generated again");
    assertEquals(1.0, r.summary().pass1());
    assertEquals(20, Files.readAllLines(out.resolve("toy/samples.jsonl")).size());
    assertTrue(Files.readString(out.resolve("toy/results.csv")).startsWith("problem_id,sample,extracted,correct,tokens"));
    assertTrue(Files.readString(out.resolve("toy/summary.json")).contains("\"pass1\": 1.0"));
    Backend mustNotRun = new Backend() {
      @Override
      public List<Completion> complete(List<String> prompts, Sampling s) {
        throw new AssertionError("nothing is left to generate");
      }

      @Override
      public String name() {
        return "echo";
      }
    };
    Evaluator.Result again = new Evaluator(mustNotRun, cfg).run("toy", ps, out);
    assertEquals(1.0, again.summary().pass1(), "a finished run is read back, not recomputed");
    EvalConfig hotter = new EvalConfig(2, cfg.maxNewTokens(), 1.0, cfg.topP(), cfg.seed(), cfg.batchSize(), 0, cfg.template());
    var changed = assertThrows(IllegalStateException.class, () -> new Evaluator(echo, hotter).run("toy", ps, out));
    assertTrue(changed.getMessage().contains("run.json") && changed.getMessage().contains("temperature=1.0"), changed.getMessage());
    seen.clear();
    resumed.clear();
    Evaluator.Result more = new Evaluator(counting, cfg.withSamples(3)).run("toy", ps, out);
    assertEquals(10, resumed.size(), "a third sample per problem adds 10 generations, nothing else");
    assertEquals(30, more.table().rowCount());
  }
}
