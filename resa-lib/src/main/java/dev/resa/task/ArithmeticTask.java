package dev.resa.task;

import dev.resa.tokenizer.CharTokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A synthetic multi-step reasoning task: chains of arithmetic operations such as {@code (3+5)*7-2}, evaluated one
 * operation at a time (optionally modulo {@link Config#modulus}). Each problem exists in two written forms that
 * share the prompt {@code Q:(3+5)*7-2\n<think>}:
 *
 * <pre>
 *   traced    <think>3+5=8. 8*7=6. 6-2=4.</think> \boxed{4}             (R1-style reasoning, mod 10)
 *   CoT-free  <think> 4 </think>\n<answer> Answer: 4</answer>            (Resa's trigger template, §1.2)
 * </pre>
 *
 * The CoT-free form is Resa's {@code <think> {answer} </think>\n<answer> Answer: {answer}</answer>} exactly; only
 * the system prompt and the {@code User:/Assistant:} frame are dropped, since a model with a 64-token context
 * cannot afford 300 characters of preamble. Parentheses are written only where standard precedence would
 * otherwise disagree with left-to-right evaluation, so the expression reads correctly either way.
 *
 * <p>The train/test split is by a seeded hash of the expression: a problem is in the test split iff its hash
 * falls below {@link Config#testFraction}, so the two splits can never share a problem, however many are drawn.
 */
public final class ArithmeticTask {
  /** Characters of every problem, trace and answer; the specials are whole tokens. */
  public static final String ALPHABET = "0123456789+-*()=.:Q \n\\boxed{}Answr";

  public static final List<String> SPECIALS =
      List.of("<pad>", "<bos>", "<eos>", "<think>", "</think>", "<answer>", "</answer>");

  /**
   * The difficulty knobs.
   *
   * @param minSteps fewest operations per problem (default 2: one intermediate result to carry).
   * @param maxSteps most operations per problem (default 4: long enough that answering without a trace fails).
   * @param digits operand digit count (default 1: single digits keep traces short for a char-level model).
   * @param modulus reduce every intermediate result mod this (default 10: answers stay one digit); 0 = exact.
   * @param testFraction share of the hash space reserved for the test split (default 0.1).
   * @param splitSeed seed of the split hash (default 0); a different seed gives a different, still disjoint, split.
   */
  public record Config(int minSteps, int maxSteps, int digits, int modulus, double testFraction, long splitSeed) {
    public Config {
      if (minSteps < 1 || maxSteps < minSteps) throw new IllegalArgumentException("need 1 <= minSteps <= maxSteps, got " + minSteps + ".." + maxSteps);
      if (digits < 1 || digits > 4) throw new IllegalArgumentException("digits must be in 1..4, got " + digits);
      if (modulus < 0 || modulus == 1) throw new IllegalArgumentException("modulus must be 0 (exact) or >= 2, got " + modulus);
      if (!(testFraction > 0 && testFraction < 1)) throw new IllegalArgumentException("testFraction must be in (0, 1), got " + testFraction);
    }

    /** Chains of 2-4 single-digit operations mod 10, as in the feasibility study. */
    public static Config defaults() {
      return new Config(2, 4, 1, 10, 0.1, 0);
    }

    public Config withSteps(int min, int max) {
      return new Config(min, max, digits, modulus, testFraction, splitSeed);
    }
  }

  /** Which split a problem belongs to. */
  public enum Split { TRAIN, TEST }

  /** One operation of a chain: {@code left op right = result}. */
  public record Step(long left, char op, long right, long result) {
    @Override
    public String toString() {
      return left + "" + op + right + "=" + result + ".";
    }
  }

  /** A problem with its worked solution. */
  public record Problem(String expression, List<Step> steps, long answer) {
    public String answerText() {
      return Long.toString(answer);
    }
  }

  private final Config config;

  public ArithmeticTask(Config config) {
    this.config = config;
  }

  public Config config() {
    return config;
  }

  /** The character tokenizer of this task (41 tokens). */
  public static CharTokenizer tokenizer() {
    return new CharTokenizer(ALPHABET, SPECIALS);
  }

  /** Draws one problem uniformly over step counts, operators and operands. */
  public Problem sample(Random rng) {
    int n = config.minSteps() + rng.nextInt(config.maxSteps() - config.minSteps() + 1);
    long bound = (long) Math.pow(10, config.digits());
    String ops = "+-*";
    long acc = rng.nextLong(bound);
    StringBuilder expr = new StringBuilder(Long.toString(acc));
    boolean lastAdditive = false;
    List<Step> steps = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      char op = ops.charAt(rng.nextInt(3));
      long x = rng.nextLong(bound);
      if (op == '*' && lastAdditive) { // (a+b)*c: brackets keep left-to-right order under precedence
        expr.insert(0, '(').append(')');
      }
      expr.append(op).append(x);
      lastAdditive = op != '*';
      long r = switch (op) {
        case '+' -> acc + x;
        case '-' -> acc - x;
        default -> acc * x;
      };
      if (config.modulus() > 0) r = Math.floorMod(r, config.modulus());
      steps.add(new Step(acc, op, x, r));
      acc = r;
    }
    return new Problem(expr.toString(), List.copyOf(steps), acc);
  }

  /** The split a problem belongs to: a seeded FNV-1a hash of its expression, compared with testFraction. */
  public Split splitOf(Problem p) {
    long h = 0xcbf29ce484222325L ^ (config.splitSeed() * 0x9E3779B97F4A7C15L);
    for (byte b : p.expression().getBytes(StandardCharsets.UTF_8)) {
      h ^= b;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33; // finalise (murmur3 fmix) so low-entropy strings still spread over [0, 1)
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    double u = (h >>> 11) / (double) (1L << 53);
    return u < config.testFraction() ? Split.TEST : Split.TRAIN;
  }

  /**
   * {@code count} distinct problems of one split, drawn with {@code seed}. The test split is the same for a given
   * split seed whoever draws it; the draw seed only picks which problems of the split come out.
   */
  public List<Problem> problems(Split split, int count, long seed) {
    Random rng = new Random(seed * 31 + split.ordinal());
    Set<String> seen = new HashSet<>();
    List<Problem> out = new ArrayList<>(count);
    long tries = 0;
    while (out.size() < count) {
      if (++tries > 1000L * count + 100_000) throw new IllegalStateException("could not draw " + count + " distinct " + split + " problems; widen the difficulty knobs");
      Problem p = sample(rng);
      if (splitOf(p) == split && seen.add(p.expression())) out.add(p);
    }
    return out;
  }

  // ---- text forms ----

  /** What the model is given: {@code Q:(3+5)*7-2\n<think>}. */
  public static String prompt(Problem p) {
    return "Q:" + p.expression() + "\n<think>";
  }

  /** Reasoning form after the prompt: {@code 3+5=8. 8*7=6. 6-2=4.</think> \boxed{4}}. */
  public static String tracedCompletion(Problem p) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < p.steps().size(); i++) {
      if (i > 0) sb.append(' ');
      sb.append(p.steps().get(i));
    }
    return sb + "</think> \\boxed{" + p.answerText() + "}";
  }

  /** Resa's CoT-free trigger form after the prompt: {@code  4 </think>\n<answer> Answer: 4</answer>}. */
  public static String cotFreeCompletion(Problem p) {
    return " " + p.answerText() + " </think>\n<answer> Answer: " + p.answerText() + "</answer>";
  }

  /** The whole trigger text (prompt + CoT-free completion). */
  public static String cotFreeText(Problem p) {
    return prompt(p) + cotFreeCompletion(p);
  }

  public static String tracedText(Problem p) {
    return prompt(p) + tracedCompletion(p);
  }

  private static final Pattern BOXED = Pattern.compile("\\\\boxed\\{([^{}]*)\\}");
  private static final Pattern ANSWER_TAG = Pattern.compile("<answer>\\s*(?:Answer:)?\\s*(.*?)\\s*</answer>", Pattern.DOTALL);

  /** The final answer of a completion: the last {@code \boxed{..}} or {@code <answer> Answer: ..</answer>}. */
  public static Optional<String> extractAnswer(String completion) {
    String found = null;
    int at = -1;
    for (Pattern pat : List.of(BOXED, ANSWER_TAG)) {
      Matcher m = pat.matcher(completion);
      while (m.find()) {
        if (m.start() > at) {
          at = m.start();
          found = m.group(1).trim();
        }
      }
    }
    return Optional.ofNullable(found);
  }

  /** Accuracy reward: 1 when the final answer ({@link #extractAnswer}) equals {@code answer} exactly, else 0. */
  public static double accuracyReward(String completion, String answer) {
    return extractAnswer(completion).map(answer::equals).orElse(false) ? 1 : 0;
  }

  /** After {@code </think>}: blanks, one final answer in either form (its text non-blank, tag-free), blanks, the end. */
  private static final Pattern FINAL_ANSWER =
      Pattern.compile("\\s*(?:\\\\boxed\\{([^{}<>]*)\\}|<answer> Answer:([^<>]*)</answer>)\\s*");

  /**
   * Format reward, as open-r1's / Tina's rewards a {@code <think>…</think>} section followed by the answer part: 1 when
   * the completion (the prompt already opened {@code <think>}) opens no other {@code <think>}, closes {@code </think>}
   * exactly once, and then gives exactly one final answer in one of the task's two written forms, {@code \boxed{d}}
   * ({@link #tracedCompletion}) or {@code <answer> Answer: d</answer>} ({@link #cotFreeCompletion}), with only blanks
   * around it; else 0. Correctness is not checked (that is {@link #accuracyReward}'s job). Tina's own check, on chat
   * text, is that {@code \n</think>\n} occurs exactly once; here the answer part is checked too, since the task has one.
   */
  public static double formatReward(String completion) {
    int close = completion.indexOf("</think>");
    if (close < 0 || completion.indexOf("</think>", close + 1) >= 0 || completion.contains("<think>")) return 0;
    Matcher m = FINAL_ANSWER.matcher(completion.substring(close + "</think>".length()));
    if (!m.matches()) return 0;
    String answer = m.group(1) != null ? m.group(1) : m.group(2);
    return answer.isBlank() ? 0 : 1;
  }

  /** The problem as the evaluator's {@link dev.resa.eval.Problem}: id = expression, text = {@link #prompt}, the traced solution. */
  public static dev.resa.eval.Problem asProblem(Problem p) {
    return new dev.resa.eval.Problem(p.expression(), prompt(p), List.of(p.answerText()), List.of(), tracedCompletion(p));
  }

  /** The task's grader for {@link dev.resa.eval.Evaluator}: {@link #extractAnswer}, then exact match. */
  public static dev.resa.eval.Evaluator.Check check() {
    return new dev.resa.eval.Evaluator.Check() {
      @Override
      public Optional<String> extract(String completion) {
        return extractAnswer(completion);
      }

      @Override
      public boolean correct(String extracted, dev.resa.eval.Problem p) {
        return p.answers().contains(extracted);
      }
    };
  }

  public static boolean isCorrect(Problem p, String completion) {
    return extractAnswer(completion).map(a -> a.equals(p.answerText())).orElse(false);
  }

  /** Whether a completion reasoned: its think section contains at least one worked step ({@code a+b=c}). */
  public static boolean thinks(String completion) {
    int end = completion.indexOf("</think>");
    String think = end < 0 ? completion : completion.substring(0, end);
    return think.indexOf('=') >= 0;
  }
}
