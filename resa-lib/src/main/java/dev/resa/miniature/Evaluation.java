package dev.resa.miniature;

import dev.resa.model.DecoderLM;
import dev.resa.model.Generator;
import dev.resa.task.ArithmeticTask;
import dev.resa.task.ArithmeticTask.Problem;
import dev.resa.tokenizer.Tokenizer;
import dev.resa.train.Progress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Held-out scoring as Resa reports it: Pass@1 = mean correctness over {@code samples} samples per problem at
 * T = 0.6, top-p 0.95; greedy accuracy on top (greedy hides the think decision, so it is the secondary number);
 * think rate = share of sampled completions with at least one worked step.
 */
final class Evaluation {
  private Evaluation() {}

  /**
   * @param pass1 mean accuracy of sampled completions (T = 0.6).
   * @param greedy accuracy of greedy decoding.
   * @param thinkRate share of sampled completions that reason.
   * @param pass1Thinking accuracy of the sampled completions that reason (NaN when none do).
   * @param pass1Direct accuracy of the sampled completions that answer directly (NaN when none do).
   * @param completions number of sampled completions scored.
   */
  record Score(double pass1, double greedy, double thinkRate, double pass1Thinking, double pass1Direct, int completions) {}

  static final double TEMPERATURE = 0.6;
  static final double TOP_P = 0.95;
  private static final int CHUNK = 400;

  static Score evaluate(DecoderLM model, Tokenizer tok, List<Problem> test, int samples, int maxNew, long seed, String title) {
    List<int[]> prompts = new ArrayList<>();
    for (Problem p : test) prompts.add(Trainers.withBos(tok, ArithmeticTask.prompt(p)));
    Generator gen = new Generator(model);
    Set<Integer> stop = Set.of(tok.eosId());
    int greedyRight = 0;
    int right = 0, thinking = 0, thinkRight = 0, n = 0;
    int total = test.size() * (samples + 1);
    try (Progress.Bar bar = Progress.start(title, total)) {
      for (int i = 0; i < prompts.size(); i += CHUNK) {
        Progress.checkInterrupted();
        List<int[]> chunk = prompts.subList(i, Math.min(prompts.size(), i + CHUNK));
        List<int[]> outs = gen.generate(chunk, Generator.Sampling.greedy(maxNew, stop));
        for (int r = 0; r < outs.size(); r++) if (ArithmeticTask.isCorrect(test.get(i + r), tok.decode(outs.get(r)))) greedyRight++;
        bar.update(Math.min(i + CHUNK, prompts.size()), Map.of());
      }
      List<int[]> rep = new ArrayList<>();
      List<Problem> repProblems = new ArrayList<>();
      for (int s = 0; s < samples; s++) {
        for (int i = 0; i < test.size(); i++) {
          rep.add(prompts.get(i));
          repProblems.add(test.get(i));
        }
      }
      for (int i = 0; i < rep.size(); i += CHUNK) {
        Progress.checkInterrupted();
        List<int[]> outs = gen.generate(rep.subList(i, Math.min(rep.size(), i + CHUNK)),
            new Generator.Sampling(maxNew, TEMPERATURE, TOP_P, stop, seed + i));
        for (int r = 0; r < outs.size(); r++) {
          String text = tok.decode(outs.get(r));
          boolean ok = ArithmeticTask.isCorrect(repProblems.get(i + r), text);
          boolean thinks = ArithmeticTask.thinks(text);
          n++;
          if (ok) right++;
          if (thinks) {
            thinking++;
            if (ok) thinkRight++;
          }
        }
        bar.update(test.size() + Math.min(i + CHUNK, rep.size()), Map.of());
      }
    }
    int direct = n - thinking;
    return new Score((double) right / n, (double) greedyRight / test.size(), (double) thinking / n,
        thinking == 0 ? Double.NaN : (double) thinkRight / thinking,
        direct == 0 ? Double.NaN : (double) (right - thinkRight) / direct, n);
  }
}
