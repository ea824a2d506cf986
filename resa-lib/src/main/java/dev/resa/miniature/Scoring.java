package dev.resa.miniature;

import dev.resa.eval.EvalConfig;
import dev.resa.eval.Evaluator;
import dev.resa.eval.LmBackend;
import dev.resa.eval.Prompts;
import dev.resa.model.DecoderLM;
import dev.resa.task.ArithmeticTask;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Held-out scoring as Resa reports it, through {@link Evaluator} with the task's grader: Pass@1 = mean correctness of
 * {@code samples} samples per problem at T = 0.6, top-p 0.95; greedy accuracy; think rate = share of sampled
 * completions with at least one worked step; accuracy split by that decision. Also keeps the scores problem by problem
 * ({@link ProblemScores}) for the paired bootstrap.
 */
final class Scoring {
  private Scoring() {}

  /** A model's summary scores over the test set. */
  record Score(double pass1, double greedy, double thinkRate, double pass1Thinking, double pass1Direct, int completions) {
    Table asTable(String name) {
      return Table.create("scores", StringColumn.create("model", List.of(name)), DoubleColumn.create("pass1", pass1),
          DoubleColumn.create("greedy", greedy), DoubleColumn.create("think", thinkRate));
    }
  }

  /** The summary and the per-problem scores of one evaluation. */
  record Scored(Score score, ProblemScores problems) {}

  /** Scores {@code model} on the preset's test set (the same problems, in the same order, for every seed). */
  static Scored score(DecoderLM model, Preset p, String name) {
    return score(model, p, name, Stages.testSet(p));
  }

  /** Scores {@code model} on {@code set} (the validation problems of {@link TuneSweep}, for example) as the test set is scored. */
  static Scored score(DecoderLM model, Preset p, String name, List<ArithmeticTask.Problem> set) {
    List<dev.resa.eval.Problem> problems = set.stream().map(ArithmeticTask::asProblem).toList();
    LmBackend backend = new LmBackend(model, ArithmeticTask.tokenizer(), name, true);
    EvalConfig sampled = EvalConfig.paper(p.maxNewTokens()).withTemplate(Prompts.RAW).withSamples(p.samples()).withBatchSize(400).withSeed(1234);
    try {
      List<Evaluator.Sample> greedy = new Evaluator(backend, sampled.withSampling(0, 1).withSamples(1), ArithmeticTask.check()).run("greedy " + name, problems, null).samples();
      List<Evaluator.Sample> s = new Evaluator(backend, sampled, ArithmeticTask.check()).run("eval " + name, problems, null).samples();
      return new Scored(summary(s, greedy), perProblem(problems, s, greedy));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Score summary(List<Evaluator.Sample> s, List<Evaluator.Sample> greedy) {
    int right = 0, thinking = 0, thinkRight = 0;
    for (Evaluator.Sample x : s) {
      boolean thinks = ArithmeticTask.thinks(x.completion());
      if (x.correct()) right++;
      if (thinks) thinking++;
      if (thinks && x.correct()) thinkRight++;
    }
    int n = s.size(), direct = n - thinking;
    return new Score((double) right / n, greedy.stream().filter(Evaluator.Sample::correct).count() / (double) greedy.size(), (double) thinking / n,
        thinking == 0 ? Double.NaN : (double) thinkRight / thinking, direct == 0 ? Double.NaN : (double) (right - thinkRight) / direct, n);
  }

  /** Per test problem (in test-set order): share of samples right, greedy right (0/1), share of samples that think. */
  static ProblemScores perProblem(List<dev.resa.eval.Problem> problems, List<Evaluator.Sample> sampled, List<Evaluator.Sample> greedy) {
    Map<String, Integer> row = new HashMap<>();
    for (int i = 0; i < problems.size(); i++) {
      if (row.put(problems.get(i).id(), i) != null) throw new IllegalStateException("duplicate test problem id " + problems.get(i).id());
    }
    int n = problems.size();
    double[] right = new double[n], count = new double[n], thinks = new double[n], g = new double[n];
    for (Evaluator.Sample x : sampled) {
      int i = row.get(x.problemId());
      count[i]++;
      if (x.correct()) right[i]++;
      if (ArithmeticTask.thinks(x.completion())) thinks[i]++;
    }
    for (Evaluator.Sample x : greedy) if (x.correct()) g[row.get(x.problemId())] = 1;
    for (int i = 0; i < n; i++) {
      if (count[i] == 0) throw new IllegalStateException("no samples for test problem " + problems.get(i).id());
      right[i] /= count[i];
      thinks[i] /= count[i];
    }
    return new ProblemScores(problems.stream().map(dev.resa.eval.Problem::id).toList(), right, g, thinks);
  }
}
