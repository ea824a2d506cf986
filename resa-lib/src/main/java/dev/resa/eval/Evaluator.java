package dev.resa.eval;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonSyntaxException;
import dev.resa.io.AtomicFiles;
import dev.resa.train.Progress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Runs a {@link Backend} over a benchmark: {@code samples} completions per problem, each graded (extract the final
 * answer, check it against the references), Pass@1 = the fraction of correct samples averaged over problems.
 *
 * <p>With an output folder the run is resumable: after every batch {@code <out>/<benchmark>/samples.jsonl} is
 * rewritten atomically with every graded sample so far, and a re-run skips the (problem, sample) pairs it holds
 * (so it can also add samples or problems). {@code run.json} records the model and sampling settings; resuming
 * with different ones is refused. At the end
 * {@code results.csv} (one row per sample) and {@code summary.json} are written.
 */
public final class Evaluator {
  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();
  private static final Gson PRETTY = new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create();

  /** One graded completion. */
  public record Sample(String problemId, int sample, String extracted, boolean correct, int tokens, String completion) {}

  /** Headline numbers of one benchmark run. */
  public record Summary(String benchmark, String model, int problems, int samplesPerProblem, double pass1,
      double meanTokens, int unanswered) {}

  /** The summary, the per-sample table (problem_id, sample, extracted, correct, tokens) and the samples themselves. */
  public record Result(Summary summary, Table table, List<Sample> samples) {}

  /**
   * How a completion is graded: the answer it commits to, and whether that answer is right for the problem. The
   * math benchmarks use {@link #math}; a task brings its own (e.g. {@code ArithmeticTask.check()}), so every task and
   * benchmark runs through this one evaluator.
   */
  public interface Check {
    Optional<String> extract(String completion);

    boolean correct(String extracted, Problem problem);

    /** {@link Answers#extract}, then mathematical equivalence with any reference ({@link Grader}). */
    static Check math(Grader grader) {
      return new Check() {
        @Override
        public Optional<String> extract(String completion) {
          return Answers.extract(completion);
        }

        @Override
        public boolean correct(String extracted, Problem p) {
          return grader.equalAny(extracted, p.answers());
        }
      };
    }
  }

  private final Backend backend;
  private final EvalConfig config;
  private final Check check;

  public Evaluator(Backend backend, EvalConfig config, Check check) {
    this.backend = backend;
    this.config = config;
    this.check = check;
  }

  public Evaluator(Backend backend, EvalConfig config, Grader grader) {
    this(backend, config, Check.math(grader));
  }

  public Evaluator(Backend backend, EvalConfig config) {
    this(backend, config, new Grader());
  }

  /** Evaluates {@code problems} of {@code benchmark}; {@code outDir} may be null (nothing written, nothing resumed). */
  public Result run(String benchmark, List<Problem> problems, Path outDir) throws IOException {
    if (config.limit() > 0 && problems.size() > config.limit()) problems = problems.subList(0, config.limit());
    Path dir = outDir == null ? null : outDir.resolve(benchmark);
    Map<String, Sample> done = dir == null ? new LinkedHashMap<>() : resume(dir, benchmark);
    List<Problem> pendingProblems = new ArrayList<>();
    List<Integer> pendingSamples = new ArrayList<>();
    List<Long> pendingIndex = new ArrayList<>();
    long index = 0;
    for (Problem p : problems) {
      for (int s = 0; s < config.samples(); s++, index++) {
        if (done.containsKey(key(p.id(), s))) continue;
        pendingProblems.add(p);
        pendingSamples.add(s);
        pendingIndex.add(index);
      }
    }
    long total = (long) problems.size() * config.samples();
    try (Progress.Bar bar = Progress.start("eval " + benchmark, total)) {
      bar.update(done.size(), Map.of("pass@1", pass1(done.values())));
      for (int from = 0; from < pendingProblems.size(); from += config.batchSize()) {
        Progress.checkInterrupted();
        int to = Math.min(from + config.batchSize(), pendingProblems.size());
        List<String> prompts = new ArrayList<>();
        for (int i = from; i < to; i++) prompts.add(config.template().render(pendingProblems.get(i)));
        long seed = config.seed() * 1_000_003L + pendingIndex.get(from);
        List<Backend.Completion> completions = backend.complete(prompts,
            new Backend.Sampling(config.maxNewTokens(), config.temperature(), config.topP(), seed));
        if (completions.size() != prompts.size()) {
          throw new IllegalStateException(backend.name() + " returned " + completions.size() + " completions for " + prompts.size() + " prompts");
        }
        for (int i = from; i < to; i++) {
          Sample s = grade(pendingProblems.get(i), pendingSamples.get(i), completions.get(i - from));
          done.put(key(s.problemId(), s.sample()), s);
        }
        if (dir != null) writeSamples(dir, done.values());
        bar.update(done.size(), Map.of("pass@1", pass1(done.values())));
      }
    }
    List<Sample> ordered = new ArrayList<>();
    for (Problem p : problems) for (int s = 0; s < config.samples(); s++) ordered.add(done.get(key(p.id(), s)));
    Table table = table(benchmark, ordered);
    Summary summary = summarize(benchmark, problems.size(), ordered);
    if (dir != null) {
      java.io.StringWriter csv = new java.io.StringWriter();
      table.write().csv(csv);
      AtomicFiles.writeString(dir.resolve("results.csv"), csv.toString());
      AtomicFiles.writeString(dir.resolve("summary.json"), PRETTY.toJson(summary) + "\n");
    }
    return new Result(summary, table, ordered);
  }

  /** Grades one completion: the letter for multiple choice, else the extracted answer against every reference. */
  public Sample grade(Problem p, int sample, Backend.Completion c) {
    String extracted;
    boolean correct;
    if (p.multipleChoice()) {
      extracted = Answers.letter(c.text()).map(String::valueOf).orElse("");
      correct = !extracted.isEmpty() && extracted.equals(p.answers().get(0));
    } else {
      Optional<String> a = check.extract(c.text());
      extracted = a.orElse("");
      correct = a.isPresent() && check.correct(a.get(), p);
    }
    return new Sample(p.id(), sample, extracted, correct, c.tokens(), c.text());
  }

  /**
   * What must match for results to be resumed: the model and everything that changes how a sample is drawn or
   * graded. Samples per problem, limit and batch size may change between runs (a re-run can add samples).
   */
  private record RunKey(String benchmark, String model, int maxNewTokens, double temperature, double topP, long seed,
      Prompts template) {}

  private Map<String, Sample> resume(Path dir, String benchmark) throws IOException {
    Path runFile = dir.resolve("run.json");
    RunKey key = new RunKey(benchmark, backend.name(), config.maxNewTokens(), config.temperature(), config.topP(),
        config.seed(), config.template());
    if (Files.exists(runFile)) {
      RunKey before;
      try {
        before = GSON.fromJson(Files.readString(runFile, StandardCharsets.UTF_8), RunKey.class);
      } catch (JsonSyntaxException e) {
        throw new IllegalArgumentException(runFile + ": malformed run record (" + e.getMessage() + ")", e);
      }
      if (!key.equals(before)) {
        throw new IllegalStateException(runFile + " holds results of another run (" + before + "); this run is " + key
            + ". Refusing to mix them: use a fresh --out folder.");
      }
    } else {
      AtomicFiles.writeString(runFile, PRETTY.toJson(key) + "\n");
    }
    Map<String, Sample> done = new LinkedHashMap<>();
    Path file = dir.resolve("samples.jsonl");
    if (!Files.exists(file)) return done;
    int n = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      n++;
      if (line.isBlank()) continue;
      try {
        Sample s = GSON.fromJson(line, Sample.class);
        if (s == null || s.problemId() == null) throw new JsonSyntaxException("not a sample record");
        done.put(key(s.problemId(), s.sample()), s);
      } catch (JsonSyntaxException e) {
        throw new IllegalArgumentException(file + ":" + n + ": malformed sample line (" + e.getMessage() + ")", e);
      }
    }
    return done;
  }

  private static void writeSamples(Path dir, Iterable<Sample> samples) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (Sample s : samples) sb.append(GSON.toJson(s)).append('\n');
    AtomicFiles.writeString(dir.resolve("samples.jsonl"), sb.toString());
  }

  private static String key(String id, int sample) {
    return id + "#" + sample;
  }

  private static double pass1(Iterable<Sample> samples) {
    int n = 0, ok = 0;
    for (Sample s : samples) {
      n++;
      if (s.correct()) ok++;
    }
    return n == 0 ? 0 : (double) ok / n;
  }

  private Summary summarize(String benchmark, int problems, List<Sample> samples) {
    Map<String, int[]> perProblem = new LinkedHashMap<>();
    long tokens = 0;
    int unanswered = 0;
    for (Sample s : samples) {
      int[] c = perProblem.computeIfAbsent(s.problemId(), k -> new int[2]);
      c[0]++;
      if (s.correct()) c[1]++;
      tokens += s.tokens();
      if (s.extracted().isEmpty()) unanswered++;
    }
    double sum = 0;
    for (int[] c : perProblem.values()) sum += (double) c[1] / c[0];
    double pass1 = perProblem.isEmpty() ? 0 : sum / perProblem.size();
    return new Summary(benchmark, backend.name(), problems, config.samples(), pass1,
        samples.isEmpty() ? 0 : (double) tokens / samples.size(), unanswered);
  }

  /** The per-sample table. */
  public static Table table(String name, List<Sample> samples) {
    StringColumn id = StringColumn.create("problem_id");
    IntColumn sample = IntColumn.create("sample");
    StringColumn extracted = StringColumn.create("extracted");
    BooleanColumn correct = BooleanColumn.create("correct");
    IntColumn tokens = IntColumn.create("tokens");
    for (Sample s : samples) {
      id.append(s.problemId());
      sample.append(s.sample());
      extracted.append(s.extracted());
      correct.append(s.correct());
      tokens.append(s.tokens());
    }
    return Table.create(name, id, sample, extracted, correct, tokens);
  }

  /** One row per benchmark plus the unweighted average the paper reports as "Avg.". */
  public static Table summaryTable(List<Summary> summaries) {
    StringColumn bench = StringColumn.create("benchmark");
    IntColumn problems = IntColumn.create("problems");
    IntColumn samples = IntColumn.create("samples");
    DoubleColumn pass1 = DoubleColumn.create("pass@1 %");
    DoubleColumn tokens = DoubleColumn.create("mean tokens");
    double sum = 0;
    for (Summary s : summaries) {
      bench.append(s.benchmark());
      problems.append(s.problems());
      samples.append(s.samplesPerProblem());
      pass1.append(Math.round(s.pass1() * 10000) / 100.0);
      tokens.append(Math.round(s.meanTokens() * 10) / 10.0);
      sum += s.pass1();
    }
    if (summaries.size() > 1) {
      bench.append("Avg.");
      problems.appendMissing();
      samples.appendMissing();
      pass1.append(Math.round(sum / summaries.size() * 10000) / 100.0);
      tokens.appendMissing();
    }
    return Table.create("summary", bench, problems, samples, pass1, tokens);
  }
}
