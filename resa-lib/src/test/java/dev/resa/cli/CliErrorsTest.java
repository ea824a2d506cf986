package dev.resa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.resa.core.Djl;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import dev.resa.tokenizer.CharTokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command family fed a bad file or value: the error is one line on stderr, {@code resa <command>: ...}, naming
 * the file and line, key or option; the exit code is non-zero; {@code --verbose} adds the stack trace (the usage help
 * for a bad command line). Run in-process through picocli with captured streams.
 */
class CliErrorsTest {
  @TempDir static Path tmp;
  static Path base; // a tiny saved HF model folder with its char tokenizer
  static Path charTok;
  static Path text; // a valid training text, one document per line
  static Path problems; // a valid problem/answer JSONL

  @BeforeAll
  static void fixtures() throws IOException {
    System.setProperty("resa.progress.off", "true");
    CharTokenizer tok = new CharTokenizer("0123456789+= abcdefghijklmnopqrstuvwxyz");
    ModelConfig c = ModelConfig.tinyQwen2(tok.vocabSize(), 16, 2, 2, 1, 32, 64).withTokens(tok.bosId(), tok.eosId());
    base = tmp.resolve("base");
    try (NDManager m = Djl.newManager(Device.cpu());
         DecoderLM model = new DecoderLM(c, Weights.random(c, m.newSubManager(), 1, DataType.FLOAT32))) {
      HfCheckpoint.save(model, base);
    }
    charTok = base.resolve(TrainLmCommand.CHAR_TOKENIZER_FILE);
    tok.save(charTok);
    List<String> docs = new ArrayList<>(), probs = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      docs.add(i + "+" + (i % 7) + "=" + (i + i % 7));
      probs.add("{\"problem\": \"" + i + "+1\", \"answer\": \"" + (i + 1) + "\"}");
    }
    text = Files.write(tmp.resolve("text.txt"), docs);
    problems = Files.write(tmp.resolve("problems.jsonl"), probs);
  }

  /** A JSONL file whose {@code badLine}-th line (1-based) is cut off mid-object. */
  private static Path malformedJsonl(String name, int badLine) throws IOException {
    List<String> lines = new ArrayList<>();
    for (int i = 1; i < badLine; i++) lines.add("{\"text\": \"1+1=2\", \"problem\": \"1+1\", \"answer\": \"2\", \"pred\": \"2\", \"ref\": \"2\"}");
    lines.add("{\"text\": \"1+1=");
    lines.add("{\"text\": \"2+2=4\"}");
    return Files.write(tmp.resolve(name), lines);
  }

  /** A folder holding a copy of the base model whose {@code file} is replaced by {@code content}. */
  private static Path brokenCopy(String name, String file, byte[] content) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(name));
    try (var files = Files.list(base)) {
      for (Path f : (Iterable<Path>) files::iterator) Files.copy(f, dir.resolve(f.getFileName()));
    }
    Files.write(dir.resolve(file), content);
    return dir;
  }

  /**
   * Runs {@code args}: asserts exit {@code code}, one line on stderr that starts with {@code resa <command>:} and
   * contains every {@code named} string, and no stack trace; then runs it with {@code --verbose} and asserts the same
   * line followed by a stack trace ({@code trace}) or the usage help.
   */
  private static void assertOneLineError(int code, boolean trace, List<String> args, String... named) {
    CliRun r = CliRun.of(args.toArray(String[]::new));
    String err = r.err().strip();
    assertEquals(code, r.code(), "exit code; stderr: " + r.err());
    assertFalse(err.contains("\n"), "more than one line on stderr:\n" + r.err());
    String command = "resa " + (args.get(0).equals("bench") || args.get(0).equals("kernel") ? args.get(0) + " " + args.get(1) : args.get(0));
    assertTrue(err.startsWith(command + ": "), err);
    for (String n : named) assertTrue(err.contains(n), "error does not name '" + n + "': " + err);
    assertFalse(err.contains("\tat ") || err.contains("Exception"), err);

    List<String> verbose = new ArrayList<>(args);
    verbose.add(CliErrors.VERBOSE);
    CliRun v = CliRun.of(verbose.toArray(String[]::new));
    assertEquals(code, v.code(), v.err());
    List<String> lines = v.err().lines().toList();
    assertEquals(err, lines.get(0), "--verbose keeps the one-line message first");
    if (trace) {
      assertTrue(v.err().contains("\n\tat dev.resa."), "--verbose prints the stack trace:\n" + v.err());
    } else {
      assertTrue(v.err().contains("Usage: " + command), "--verbose prints the usage help:\n" + v.err());
    }
  }

  private static List<String> args(String... a) {
    return Arrays.asList(a);
  }

  @Test
  void generateNamesAMalformedConfigJson() throws IOException {
    Path model = brokenCopy("bad-config", "config.json", "{\"model_type\": \"qwen2\", ".getBytes());
    assertOneLineError(1, true, args("generate", "--model", model.toString(), "--tokenizer", charTok.toString(), "--prompt", "1"),
        model.resolve("config.json").toString(), "not a JSON object");
  }

  @Test
  void trainLmNamesTheMalformedJsonlLine() throws IOException {
    Path data = malformedJsonl("train.jsonl", 3);
    assertOneLineError(1, true, args("train-lm", "--data", data.toString(), "--out", tmp.resolve("lm").toString(), "--steps", "1"),
        data + ":3:");
  }

  @Test
  void trainLmStopsAtANonFiniteLossWithOneLine() {
    Path out = tmp.resolve("diverged");
    assertOneLineError(1, true, args("train-lm", "--data", text.toString(), "--out", out.toString(), "--steps", "40", "--lr", "1e9",
        "--warmup", "0", "--checkpoint-every", "1", "--hidden", "32", "--layers", "1", "--heads", "2", "--kv-heads", "1",
        "--intermediate", "64", "--seq-len", "16", "--batch", "4", "--device", "cpu"), "step ", "stopped before the update", out.toString());
  }

  @Test
  void trainSaeNamesTheMissingDataFile() {
    Path missing = tmp.resolve("no-such-data.jsonl");
    assertOneLineError(1, true, args("train-sae", "--model", base.toString(), "--tokenizer", charTok.toString(), "--hook", "layers.0",
        "--data", missing.toString(), "--out", tmp.resolve("sae-out").toString()), missing.toString(), "not found");
  }

  @Test
  void saeMetricsNamesTheMissingKeyOfCfgJson() throws IOException {
    Path sae = Files.createDirectories(tmp.resolve("bad-sae"));
    Files.writeString(sae.resolve("cfg.json"), "{\"activation\": \"topk\", \"num_latents\": 64, \"d_in\": 16}");
    assertOneLineError(1, true, args("sae-metrics", "--model", base.toString(), "--tokenizer", charTok.toString(), "--data",
        problems.toString(), "--ctx-len", "16", "--sae", sae.toString()), sae.resolve("cfg.json").toString(), "'k'");
  }

  @Test
  void tuneNamesABrokenSafetensorsFile() throws IOException {
    Path sae = Files.createDirectories(tmp.resolve("truncated-sae"));
    Files.writeString(sae.resolve("cfg.json"), "{\"activation\": \"topk\", \"num_latents\": 64, \"k\": 4, \"d_in\": 16}");
    Files.write(sae.resolve("sae.safetensors"), new byte[] {1, 2, 3});
    assertOneLineError(1, true, args("tune", "--base", base.toString(), "--sae", sae.toString(), "--layer", "0", "--data",
        text.toString(), "--seq-len", "16", "--out", tmp.resolve("tune-out").toString()), sae.resolve("sae.safetensors").toString(), "truncated");
  }

  @Test
  void sftNamesTheMalformedJsonlLine() throws IOException {
    Path data = malformedJsonl("sft.jsonl", 2);
    assertOneLineError(1, true, args("sft", "--base", base.toString(), "--data", data.toString(), "--seq-len", "16", "--out",
        tmp.resolve("sft-out").toString()), data + ":2:");
  }

  @Test
  void grpoNamesTheLineAndTheMissingField() throws IOException {
    Path data = Files.write(tmp.resolve("grpo.jsonl"), List.of("{\"problem\": \"1+1\", \"answer\": \"2\"}", "{\"problem\": \"2+2\"}"));
    assertOneLineError(1, true, args("grpo", "--base", base.toString(), "--data", data.toString(), "--out",
        tmp.resolve("grpo-out").toString()), data + ":2:", "'answer'");
  }

  @Test
  void mergeNamesABrokenAdapterSafetensorsFile() throws IOException {
    Path adapter = Files.createDirectories(tmp.resolve("bad-adapter"));
    Files.writeString(adapter.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"target_modules\": [\"q_proj\"]}");
    Files.write(adapter.resolve("adapter_model.safetensors"), new byte[] {(byte) 0xff, 0, 0, 0, 0, 0, 0, 0, '{'});
    assertOneLineError(1, true, args("merge", "--base", base.toString(), "--adapter", adapter.toString(), "--out",
        tmp.resolve("merged").toString()), adapter.resolve("adapter_model.safetensors").toString());
  }

  @Test
  void evalNamesAnUnknownBenchmark() throws IOException {
    Path data = Files.createDirectories(tmp.resolve("empty-data"));
    assertOneLineError(2, false, args("eval", "--model", "oracle", "--data-dir", data.toString(), "--benchmarks", "math501"),
        "math501");
  }

  @Test
  void evalNamesTheMissingDataDirectory() {
    Path none = tmp.resolve("no-data-dir");
    assertOneLineError(1, true, args("eval", "--model", "oracle", "--data-dir", none.toString()), none.toString(), "--data-dir");
  }

  @Test
  void gradeNamesTheMalformedJsonlLine() throws IOException {
    Path data = malformedJsonl("grade.jsonl", 2);
    assertOneLineError(1, true, args("grade", "--jsonl", data.toString()), data + ":2:", "malformed JSON");
  }

  @Test
  void miniatureNamesAnUnknownPreset() {
    assertOneLineError(1, true, args("miniature", "--preset", "nope", "--out", tmp.resolve("runs").toString()), "preset 'nope'");
  }

  @Test
  void kernelRejectsContradictoryTargets() {
    assertOneLineError(1, true, args("kernel", "remove", "--user", "--prefix", tmp.resolve("jupyter").toString()), "--user", "--prefix");
  }

  @Test
  void benchSaysHowToInstallAMissingTorchAndInstallsNothing() throws IOException {
    Path python = tmp.resolve("python-without-torch");
    Files.writeString(python, "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n");
    assertTrue(python.toFile().setExecutable(true));
    assertOneLineError(1, true, args("bench", "sae", "--python", python.toString()), python.toString(), "apt-get install python3-torch",
        "--no-torch");
  }

  @Test
  void unknownOptionAndBadOptionValueAreOneLineUsageErrors() {
    assertOneLineError(2, false, args("train-sae", "--optimizer", "sgd", "--model", base.toString(), "--hook", "layers.0",
        "--data", problems.toString(), "--out", tmp.resolve("x").toString()), "--optimizer", "'sgd'", "SIGNUM", "ADAM");
    assertOneLineError(2, false, args("bench", "lm", "--no-such-option"), "--no-such-option");
    assertOneLineError(2, false, args("tune", "--schedule", "linear", "--base", base.toString(), "--sae", tmp.toString(), "--layer", "0",
        "--data", text.toString(), "--out", tmp.resolve("y").toString()), "--schedule", "'linear'", "CONSTANT", "COSINE");
  }

  @Test
  void fileSystemErrorsNameTheFileAndWhatIsWrong() {
    assertEquals("/data/x.jsonl: no such file or directory", CliErrors.message(new java.nio.file.NoSuchFileException("/data/x.jsonl")));
    assertEquals("/out: permission denied",
        CliErrors.message(new java.io.UncheckedIOException(new java.nio.file.AccessDeniedException("/out"))));
    assertEquals("f.jsonl:2: not a JSON object: Unterminated string at line 1 column 15 path $.text",
        CliErrors.oneLine("f.jsonl:2: not a JSON object: com.google.gson.stream.MalformedJsonException: Unterminated string at line 1"
            + " column 15 path $.text\nSee https://github.com/google/gson/blob/main/Troubleshooting.md#malformed-json"));
  }

  @Test
  void aBugIsNamedAsOneAndKeepsItsStackTraceWithoutVerbose() {
    var cl = Main.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));
    int code = new CliErrors().handleExecutionException(new NullPointerException("boom"), cl.getSubcommands().get("merge"), null);
    assertEquals(1, code);
    List<String> lines = err.toString().lines().toList();
    assertEquals("resa merge: internal error (a bug), java.lang.NullPointerException: boom", lines.get(0));
    assertTrue(lines.get(2).startsWith("\tat "), err.toString());
  }

  /** Stands for an exception type the library defines for the user (as train's non-finite-loss stop). */
  static final class LibraryStop extends RuntimeException {
    LibraryStop(String message) {
      super(message);
    }
  }

  @Test
  void theLibrarysOwnExceptionsAreUserErrorsAndTheJdksOthersAreBugs() {
    assertTrue(CliErrors.isUserError(new LibraryStop("step 3: loss is NaN; stopped before the update")));
    assertTrue(CliErrors.isUserError(new dev.resa.train.Progress.TrainingInterruptedException()));
    assertFalse(CliErrors.isUserError(new IndexOutOfBoundsException("5")));
    assertFalse(CliErrors.isUserError(new ai.djl.engine.EngineException("shape mismatch")));
  }
}
