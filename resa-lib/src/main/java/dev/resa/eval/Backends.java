package dev.resa.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Stand-in backends that check the pipeline end to end without a model. */
public final class Backends {
  private Backends() {}

  /**
   * Answers every prompt of {@code problems} (rendered with {@code template}) with the reference: the worked
   * solution when the data has one that ends in an answer, else "the final answer is \boxed{ref}" or, for multiple
   * choice, "Answer: X". A perfect checker gives it 100 % on every benchmark.
   */
  public static Backend oracle(List<Problem> problems, Prompts template) {
    Map<String, String> byPrompt = new HashMap<>();
    for (Problem p : problems) byPrompt.put(template.render(p), oracleCompletion(p));
    return new Backend() {
      @Override
      public List<Completion> complete(List<String> prompts, Sampling sampling) {
        List<Completion> out = new ArrayList<>();
        for (String prompt : prompts) {
          String text = byPrompt.get(prompt);
          if (text == null) throw new IllegalArgumentException("oracle: prompt of an unknown problem");
          out.add(new Completion(text, text.length()));
        }
        return out;
      }

      @Override
      public String name() {
        return "oracle";
      }
    };
  }

  static String oracleCompletion(Problem p) {
    if (p.multipleChoice()) return "The evidence points to one option.\nAnswer: " + p.answers().get(0);
    if (p.solution() != null && (Answers.lastBoxed(p.solution()).isPresent() || p.solution().contains("####"))) {
      return p.solution();
    }
    return "Therefore, the final answer is: $\\boxed{" + p.answers().get(0) + "}$. I hope it is correct";
  }

  /** Answers every prompt with the same text (e.g. "0": its score is the share of problems whose answer is 0). */
  public static Backend constant(String text) {
    return new Backend() {
      @Override
      public List<Completion> complete(List<String> prompts, Sampling sampling) {
        List<Completion> out = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) out.add(new Completion(text, 1));
        return out;
      }

      @Override
      public String name() {
        return "constant:" + text;
      }
    };
  }
}
