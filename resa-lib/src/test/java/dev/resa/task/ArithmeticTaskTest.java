package dev.resa.task;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resa.task.ArithmeticTask.Problem;
import dev.resa.task.ArithmeticTask.Split;
import dev.resa.task.ArithmeticTask.Step;
import dev.resa.tokenizer.CharTokenizer;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ArithmeticTaskTest {

  /** Evaluates an expression with standard precedence and brackets, independently of the generator. */
  private static long evaluate(String s) {
    return new Object() {
      int i = 0;

      long expr() {
        long v = term();
        while (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
          char op = s.charAt(i++);
          long r = term();
          v = op == '+' ? v + r : v - r;
        }
        return v;
      }

      long term() {
        long v = atom();
        while (i < s.length() && s.charAt(i) == '*') {
          i++;
          v *= atom();
        }
        return v;
      }

      long atom() {
        if (s.charAt(i) == '(') {
          i++;
          long v = expr();
          i++; // ')'
          return v;
        }
        int start = i;
        while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
        return Long.parseLong(s.substring(start, i));
      }
    }.expr();
  }

  @Test
  void tracesAreCorrectArithmeticAndMatchTheExpression() {
    for (var cfg : List.of(ArithmeticTask.Config.defaults(), new ArithmeticTask.Config(1, 5, 2, 0, 0.1, 3))) {
      ArithmeticTask task = new ArithmeticTask(cfg);
      Random rng = new Random(1);
      for (int n = 0; n < 2000; n++) {
        Problem p = task.sample(rng);
        assertTrue(p.steps().size() >= cfg.minSteps() && p.steps().size() <= cfg.maxSteps());
        for (int k = 0; k < p.steps().size(); k++) {
          Step st = p.steps().get(k);
          long exact = switch (st.op()) {
            case '+' -> st.left() + st.right();
            case '-' -> st.left() - st.right();
            case '*' -> st.left() * st.right();
            default -> throw new AssertionError(st);
          };
          long want = cfg.modulus() > 0 ? Math.floorMod(exact, cfg.modulus()) : exact;
          assertEquals(want, st.result(), p.expression() + " step " + st);
          if (k > 0) assertEquals(p.steps().get(k - 1).result(), st.left(), "steps chain");
        }
        long whole = evaluate(p.expression());
        long want = cfg.modulus() > 0 ? Math.floorMod(whole, cfg.modulus()) : whole;
        assertEquals(want, p.answer(), p.expression());
      }
    }
  }

  @Test
  void writtenFormsFollowTheTemplates() {
    List<Step> steps = List.of(new Step(17, '+', 25, 42), new Step(42, '*', 3, 126), new Step(126, '-', 9, 117));
    Problem p = new Problem("(17+25)*3-9", steps, 117);
    assertEquals("Q:(17+25)*3-9\n<think>", ArithmeticTask.prompt(p));
    assertEquals("17+25=42. 42*3=126. 126-9=117.</think> \\boxed{117}", ArithmeticTask.tracedCompletion(p));
    assertEquals(" 117 </think>\n<answer> Answer: 117</answer>", ArithmeticTask.cotFreeCompletion(p));
  }

  @Test
  void splitIsDisjointAndStable() {
    ArithmeticTask task = new ArithmeticTask(ArithmeticTask.Config.defaults());
    List<Problem> test = task.problems(Split.TEST, 300, 0);
    List<Problem> train = task.problems(Split.TRAIN, 5000, 7);
    Set<String> testExpr = test.stream().map(Problem::expression).collect(Collectors.toSet());
    assertEquals(300, testExpr.size(), "test problems are distinct");
    for (Problem p : train) assertFalse(testExpr.contains(p.expression()), "train/test overlap: " + p.expression());
    assertEquals(testExpr, task.problems(Split.TEST, 300, 0).stream().map(Problem::expression).collect(Collectors.toSet()));
    // a different split seed moves problems between splits
    ArithmeticTask other = new ArithmeticTask(new ArithmeticTask.Config(2, 4, 1, 10, 0.1, 99));
    long moved = test.stream().filter(p -> other.splitOf(p) == Split.TRAIN).count();
    assertTrue(moved > 200, "split seed changes the split, moved " + moved);
    // the test fraction is honoured roughly
    Random rng = new Random(5);
    int inTest = 0;
    for (int i = 0; i < 20000; i++) if (task.splitOf(task.sample(rng)) == Split.TEST) inTest++;
    assertTrue(inTest > 1600 && inTest < 2400, "about 10% test, got " + inTest);
  }

  @Test
  void answersExtract() {
    assertEquals(Optional.of("4"), ArithmeticTask.extractAnswer("3+5=8. 8*7=6. 6-2=4.</think> \\boxed{4}"));
    assertEquals(Optional.of("7"), ArithmeticTask.extractAnswer(" 7 </think>\n<answer> Answer: 7</answer>"));
    assertEquals(Optional.of("5"), ArithmeticTask.extractAnswer("\\boxed{3} then <answer> Answer: 5</answer>"));
    assertEquals(Optional.empty(), ArithmeticTask.extractAnswer("3+5=8. 8*7="));
    Problem p = new ArithmeticTask(ArithmeticTask.Config.defaults()).sample(new Random(3));
    assertTrue(ArithmeticTask.isCorrect(p, ArithmeticTask.tracedCompletion(p)));
    assertTrue(ArithmeticTask.isCorrect(p, ArithmeticTask.cotFreeCompletion(p)));
    assertTrue(ArithmeticTask.thinks(ArithmeticTask.tracedCompletion(p)));
    assertFalse(ArithmeticTask.thinks(ArithmeticTask.cotFreeCompletion(p)));
  }

  @Test
  void formatRewardWantsOneClosedThinkThenOneAnswer() {
    assertEquals(1.0, ArithmeticTask.formatReward("3+5=8. 8*7=6. 6-2=4.</think> \\boxed{4}"), "well-formed traced");
    assertEquals(1.0, ArithmeticTask.formatReward(" 4 </think>\n<answer> Answer: 4</answer>"), "well-formed CoT-free");
    assertEquals(1.0, ArithmeticTask.formatReward(" 9 </think>\n<answer> Answer: 9</answer>\n"), "trailing blanks are not junk");
    assertEquals(1.0, ArithmeticTask.formatReward("1+1=2.</think> \\boxed{7}"), "a wrong answer is still well-formed");
    assertEquals(0.0, ArithmeticTask.formatReward("3+5=8. 8*7=6. \\boxed{6}"), "missing </think>");
    assertEquals(0.0, ArithmeticTask.formatReward(" 4 </think> 4 </think> \\boxed{4}"), "</think> twice");
    assertEquals(0.0, ArithmeticTask.formatReward("<think> 4 </think> \\boxed{4}"), "a second <think>");
    assertEquals(0.0, ArithmeticTask.formatReward(" 4 </think> \\boxed{4} \\boxed{4}"), "two boxed answers");
    assertEquals(0.0, ArithmeticTask.formatReward(" 4 </think>\n<answer> Answer: 4</answer> \\boxed{4}"), "one answer in each form");
    assertEquals(0.0, ArithmeticTask.formatReward(" 4 </think> \\boxed{4}5+"), "trailing junk");
    assertEquals(0.0, ArithmeticTask.formatReward(" 4 </think> so \\boxed{4}"), "junk before the answer");
    assertEquals(0.0, ArithmeticTask.formatReward(" 4 </think> \\boxed{}"), "an empty answer");
    assertEquals(0.0, ArithmeticTask.formatReward(" 4 </think>"), "no answer after </think>");
    assertEquals(0.0, ArithmeticTask.formatReward(""), "empty completion");
  }

  @Test
  void accuracyRewardIsExactMatchOfTheFinalAnswer() {
    assertEquals(1.0, ArithmeticTask.accuracyReward("3+5=8. 8*7=6. 6-2=4.</think> \\boxed{4}", "4"));
    assertEquals(0.0, ArithmeticTask.accuracyReward("3+5=8. 8*7=6. 6-2=4.</think> \\boxed{4}", "6"));
    assertEquals(1.0, ArithmeticTask.accuracyReward(" 7 </think>\n<answer> Answer: 7</answer>", "7"));
    assertEquals(1.0, ArithmeticTask.accuracyReward("3+5=8. \\boxed{8}", "8"), "accuracy ignores the format");
    assertEquals(0.0, ArithmeticTask.accuracyReward("", "0"));
  }

  @Test
  void tokenizerRoundTripsBothForms() {
    CharTokenizer tok = ArithmeticTask.tokenizer();
    assertEquals(ArithmeticTask.SPECIALS.size() + ArithmeticTask.ALPHABET.length(), tok.vocabSize());
    ArithmeticTask task = new ArithmeticTask(new ArithmeticTask.Config(1, 4, 3, 0, 0.1, 0));
    Random rng = new Random(2);
    Set<Integer> lengths = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      Problem p = task.sample(rng);
      for (String s : List.of(ArithmeticTask.tracedText(p), ArithmeticTask.cotFreeText(p))) {
        int[] ids = tok.encode(s);
        assertEquals(s, tok.decode(ids));
        lengths.add(ids.length);
      }
    }
    int[] think = tok.encode("<think></think><answer></answer>");
    assertArrayEquals(new int[] {3, 4, 5, 6}, think);
  }
}
