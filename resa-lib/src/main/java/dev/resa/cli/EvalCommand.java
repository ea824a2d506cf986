package dev.resa.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.GsonBuilder;
import dev.resa.core.Djl;
import dev.resa.eval.Backend;
import dev.resa.eval.Backends;
import dev.resa.eval.Benchmark;
import dev.resa.eval.EvalConfig;
import dev.resa.eval.Evaluator;
import dev.resa.eval.LmBackend;
import dev.resa.eval.Problem;
import dev.resa.eval.Prompts;
import dev.resa.io.AtomicFiles;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.model.Llama2c;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import dev.resa.tokenizer.CharTokenizer;
import dev.resa.tokenizer.HfTokenizer;
import dev.resa.tokenizer.Llama2cTokenizer;
import dev.resa.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import tech.tablesaw.api.Table;

/** {@code ./resa eval}: Pass@1 of a model on the benchmarks, resumable, with per-sample CSV and a summary table. */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = {"Evaluate a model on math / GPQA benchmarks (Pass@1 over --samples completions per problem).",
        "Results go to OUT/<benchmark>/ (samples.jsonl, results.csv, summary.json) and OUT/summary.csv;",
        "re-running the same command resumes an interrupted run."})
public final class EvalCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "MODEL",
      description = "HF folder (config.json + safetensors + tokenizer.json), 'llama2c' (stories260K from the data"
          + " folder), 'tiny' (random tiny Qwen2 + char tokenizer, a smoke test), 'oracle' (answers with the"
          + " reference) or 'constant:TEXT'.")
  String model;

  @Option(names = "--benchmarks", defaultValue = "math500,aime24,amc23,minerva,gpqa",
      description = "Comma-separated: math500, aime24, amc23, minerva, gpqa, gsm8k, math_train (default: ${DEFAULT-VALUE}).")
  String benchmarks;

  @Option(names = "--samples", defaultValue = "1", description = "Completions per problem (default: ${DEFAULT-VALUE}, as in the paper).")
  int samples;

  @Mixin SamplingOptions sampling = new SamplingOptions(32768); // the paper's budget

  @Option(names = "--seed", defaultValue = "0", description = "Sampling and GPQA option-order seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--limit", defaultValue = "0", description = "First N problems per benchmark; 0 = all (default: ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = "--batch-size", defaultValue = "8", description = "Prompts generated together (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--template", defaultValue = "auto",
      description = "lighteval (spec §5, R1 chat), resa (R1 instruction), plain; auto = lighteval for HF folders, else plain.")
  String template;

  @Mixin DataDirOption dataDir;

  @Option(names = "--out", paramLabel = "DIR", description = "Results folder (default: runs/eval/<model>).")
  Path out;

  @Mixin DeviceOption device = new DeviceOption("cpu");

  @Override
  public Integer call() throws Exception {
    PrintWriter pw = spec.commandLine().getOut();
    Path data = dataDir.require();
    List<Benchmark> benches;
    try {
      benches = Benchmark.list(benchmarks);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    boolean builtIn = model.equals("llama2c") || model.equals("tiny") || model.equals("oracle") || model.startsWith("constant:");
    boolean hfFolder = !builtIn && Files.isDirectory(Path.of(model));
    Prompts prompts = template.equals("auto") ? (hfFolder ? Prompts.LIGHTEVAL : Prompts.PLAIN) : Prompts.of(template);
    EvalConfig cfg = EvalConfig.paper(sampling.maxNewTokens).withSamples(samples).withSampling(sampling.temperature, sampling.topP)
        .withSeed(seed).withBatchSize(batchSize).withLimit(limit).withTemplate(prompts);
    Path outDir = out != null ? out : Path.of("runs", "eval", model.replaceAll("[^A-Za-z0-9._-]+", "_"));
    List<Evaluator.Summary> summaries = new ArrayList<>();
    Map<Benchmark, List<Problem>> loaded = new LinkedHashMap<>();
    for (Benchmark b : benches) loaded.put(b, b.load(data, seed));
    try (NDManager manager = Djl.newManager(device.device())) {
      Backend lm = model.equals("oracle") || model.startsWith("constant:") ? null : openModel(manager, data, hfFolder, loaded, prompts);
      for (Benchmark b : benches) {
        List<Problem> problems = loaded.get(b);
        Backend backend = lm != null ? lm
            : model.equals("oracle") ? Backends.oracle(problems, prompts) : Backends.constant(model.substring("constant:".length()));
        summaries.add(new Evaluator(backend, cfg).run(b.key, problems, outDir).summary());
      }
    }
    Table table = Evaluator.summaryTable(summaries);
    StringWriter csv = new StringWriter();
    table.write().csv(csv);
    AtomicFiles.writeString(outDir.resolve("summary.csv"), csv.toString());
    AtomicFiles.writeString(outDir.resolve("summary.json"), new GsonBuilder().setPrettyPrinting().create().toJson(summaries) + "\n");
    pw.println(table.print());
    pw.println("results in " + outDir.toAbsolutePath());
    pw.flush();
    return 0;
  }

  private Backend openModel(NDManager manager, Path data, boolean hfFolder, Map<Benchmark, List<Problem>> problems,
      Prompts prompts) throws Exception {
    if (hfFolder) {
      Path dir = Path.of(model);
      DecoderLM lm = HfCheckpoint.load(dir, manager);
      Tokenizer tok = HfTokenizer.open(dir.resolve("tokenizer.json"));
      return new LmBackend(lm, tok, dir.getFileName().toString(), false, "<｜end▁of▁sentence｜>", "<|im_end|>", "<|endoftext|>");
    }
    switch (model) {
      case "llama2c": {
        Path folder = data.resolve("models/stories260K");
        DecoderLM lm = Llama2c.load(folder.resolve("stories260K.bin"), manager);
        Tokenizer tok = Llama2cTokenizer.load(folder.resolve("tok512.bin"), lm.config().vocabSize());
        return new LmBackend(lm, tok, "llama2c stories260K", true);
      }
      case "tiny": {
        CharTokenizer tok = new CharTokenizer(alphabet(problems, prompts));
        ModelConfig c = ModelConfig.tinyQwen2(tok.vocabSize(), 64, 2, 4, 2, 128, 2048).withTokens(tok.bosId(), tok.eosId());
        DecoderLM lm = new DecoderLM(c, Weights.random(c, manager, 0, DataType.FLOAT32));
        return new LmBackend(lm, tok, "tiny random qwen2", true);
      }
      default:
        throw new ParameterException(spec.commandLine(), "--model " + model
            + ": not a folder, and not one of llama2c, tiny, oracle, constant:TEXT");
    }
  }

  /** Every character of the prompts, so the random smoke-test model can read any benchmark (GSM8K has curly quotes). */
  private static String alphabet(Map<Benchmark, List<Problem>> problems, Prompts prompts) {
    java.util.TreeSet<Integer> chars = new java.util.TreeSet<>();
    for (char c = ' '; c <= '~'; c++) chars.add((int) c);
    chars.add((int) '\n');
    for (List<Problem> ps : problems.values()) for (Problem p : ps) prompts.render(p).codePoints().forEach(chars::add);
    StringBuilder sb = new StringBuilder();
    for (int cp : chars) sb.appendCodePoint(cp);
    return sb.toString();
  }
}
