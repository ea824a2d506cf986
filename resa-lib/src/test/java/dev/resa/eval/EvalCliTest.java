package dev.resa.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.resa.cli.Main;
import dev.resa.core.Djl;
import dev.resa.model.DecoderLM;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import dev.resa.tokenizer.CharTokenizer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The commands as a user runs them, and a real (tiny, random) DecoderLM behind the Backend interface. */
class EvalCliTest {
  private static String run(String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter(), err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return code + "\n" + out + err;
  }

  @Test
  void gradePrintsTrueOrFalse() {
    assertEquals("0\ntrue\n", run("grade", "\\dfrac{1}{2}", "0.5"));
    assertEquals("0\nfalse\n", run("grade", "x = 4", "3"));
  }

  @Test
  void gradeJsonlAnswersEveryLineInOrder(@TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("p.jsonl");
    Files.writeString(in, "{\"pred\": \"025\", \"ref\": \"25\"}\n{\"pred\": \"2\", \"ref\": \"3\", \"id\": 7}\n{\"pred\": \"1\", \"ref\": [\"0\", \"1\"]}\n");
    assertEquals("0\n{\"pred\":\"025\",\"ref\":\"25\",\"equal\":true}\n{\"pred\":\"2\",\"ref\":\"3\",\"id\":7,\"equal\":false}\n"
        + "{\"pred\":\"1\",\"ref\":[\"0\",\"1\"],\"equal\":true}\n", run("grade", "--jsonl", in.toString()));
    Files.writeString(in, "{\"pred\": \"1\", \"ref\": \"1\"}\nnot json\n");
    String bad = run("grade", "--jsonl", in.toString());
    assertTrue(bad.contains("p.jsonl:2: malformed JSON line"), bad);
  }

  @Test
  void evalWithTheOracleWritesTablesAndAnUnknownBenchmarkIsRefused(@TempDir Path out) throws Exception {
    Path data = TestData.dir();
    String ok = run("eval", "--model", "oracle", "--benchmarks", "aime24,amc23", "--data-dir", data.toString(), "--out", out.toString());
    assertTrue(ok.startsWith("0\n") && ok.contains("Avg.") && ok.contains("100"), ok);
    assertTrue(Files.readString(out.resolve("summary.csv")).contains("aime24,30,1,100.0"));
    assertEquals(31, Files.readAllLines(out.resolve("aime24/results.csv")).size());
    String unknown = run("eval", "--model", "oracle", "--benchmarks", "aime24,aime99", "--data-dir", data.toString());
    assertTrue(unknown.startsWith("2\n") && unknown.contains("unknown benchmark 'aime99'"), unknown);
    String missing = run("eval", "--model", "oracle", "--data-dir", out.resolve("nope").toString());
    assertNotEquals('0', missing.charAt(0));
    assertTrue(missing.contains("data directory not found"), missing);
  }

  @Test
  void aRealDecoderPlugsIntoTheHarness() throws Exception {
    Djl.init();
    StringBuilder ascii = new StringBuilder("\n");
    for (char ch = ' '; ch <= '~'; ch++) ascii.append(ch);
    CharTokenizer tok = new CharTokenizer(ascii.toString());
    try (NDManager m = Djl.newManager(Djl.parseDevice("cpu"))) {
      ModelConfig c = ModelConfig.tinyQwen2(tok.vocabSize(), 32, 1, 2, 1, 64, 256).withTokens(tok.bosId(), tok.eosId());
      DecoderLM lm = new DecoderLM(c, Weights.random(c, m, 7, DataType.FLOAT32));
      Backend backend = new LmBackend(lm, tok, "tiny", true);
      List<Problem> ps = List.of(new Problem("a", "what is 1+1?", List.of("2"), List.of(), null),
          new Problem("b", "what is 2+2?", List.of("4"), List.of(), null));
      EvalConfig cfg = new EvalConfig(2, 6, 0.6, 0.95, 3, 3, 0, Prompts.PLAIN);
      Evaluator.Result r = new Evaluator(backend, cfg).run("toy", ps, null);
      assertEquals(4, r.table().rowCount());
      for (int i = 0; i < 4; i++) assertTrue(r.table().intColumn("tokens").get(i) <= 6);
      Evaluator.Result again = new Evaluator(backend, cfg).run("toy", ps, null);
      assertEquals(r.table().stringColumn("extracted").asList(), again.table().stringColumn("extracted").asList(), "seeded: same samples");
    }
  }
}
