package dev.resa.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pulls the final answer out of a model completion or a reference solution, in math-verify's documented order
 * of trust: the last {@code \boxed{}} / {@code \fbox{}} (boxes next to each other, "\boxed{-2} and \boxed{1}",
 * "\boxed{1}, \boxed{4}", are joined into one list; boxes offered as alternatives with "or" are not), then the
 * last {@code <answer>} tag, then an answer phrase ("final answer is", "the answer is", "Answer:"), then an option
 * letter said first ("C. Because ..."), then whichever comes last of the last LaTeX math span and the last plain
 * number. A math span that is a computation ({@code 5 \times 6 = 30}, {@code x = 1 + 1 = 2}) gives the right-hand
 * side of its final {@code =}. A completion that commits to nothing extracts nothing. Everything returned is raw
 * LaTeX (or a plain number); {@link Latex} normalises it.
 */
public final class Answers {
  private Answers() {}

  private static final Pattern ANSWER_TAG = Pattern.compile("(?s)<answer>(.*?)</answer>");
  private static final Pattern PHRASE = Pattern.compile(
      "(?i)(?:final answer is|the answer is|answer is|final answer\\s*[:：]|answer\\s*[:：]|\\banswer(?=\\s*(?:\\$|\\\\\\(|\\\\\\[)))");
  /** Separators allowed between boxes that form one answer: space, punctuation, "and", spacing commands, delimiters. */
  private static final Pattern BOX_JOINER = Pattern.compile(
      "(?:\\s|[,;.$&~]|\\\\(?:quad|qquad|[,;:! ]|\\\\|\\(|\\)|\\[|\\])|\\\\text\\s*\\{\\s*(?:and|,)?\\s*\\}|\\band\\b)*");
  /** A plain number: mixed number, fraction, thousands groups, decimal comma, decimal; optionally a percent. */
  static final Pattern PLAIN_NUMBER = Pattern.compile(
      "(?<![A-Za-z\\d.,_^])[-+]?(?:\\d+ \\d+/\\d+(?![\\d.])|\\d+/\\d+(?![\\d.])|0,\\d+(?![\\d,])|\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?(?![\\d,])"
          + "|\\d+,\\d{1,2}(?![\\d,])|\\d+(?:\\.\\d+)?|\\.\\d+)(?:\\s*(?:%|\\\\%|percent\\b|pct\\b))?");
  private static final Pattern PERCENT_AFTER = Pattern.compile("\\s*\\$*\\s*(?:\\\\%|%|percent\\b|pct\\b)");
  private static final Pattern LEADING_LETTER = Pattern.compile("^\\(?([A-J])\\)?(?=[.:)]|$|\\s+[^A-Za-z\\s])");
  private static final Pattern OPTION_FIRST = Pattern.compile("\\s*\\(?([A-E])\\)?[.):](?:\\s|$)");
  private static final Pattern LIST_WORD = Pattern.compile("[,;]|\\band\\b");
  private static final Pattern WORD = Pattern.compile("[A-Za-z]{4,}");
  private static final Pattern SENTENCE_END = Pattern.compile("\\.(?=\\s|$)|\\n");
  private static final Pattern SHORT_ANSWER = Pattern.compile(
      "[-+]?[\\d.,/ ()^*+\\-=%]*\\d[\\d.,/ ()^*+\\-%]*(?:\\s*(?:percent|pct))?|\\(?[A-Ja-j]\\)?|[a-z]\\s*=\\s*[-\\d./]+");
  private static final Pattern COMMAND = Pattern.compile("\\\\[A-Za-z]+");
  private static final Pattern DECIMAL_COMMA = Pattern.compile("([-+]?\\d+),(\\d+)");

  /** The answer a completion commits to, or empty when it commits to nothing. */
  public static Optional<String> extract(String text) {
    if (text == null || text.isBlank()) return Optional.empty();
    Optional<String> boxed = joinedBoxes(text);
    if (boxed.isPresent()) return boxed;
    Matcher tag = ANSWER_TAG.matcher(text);
    String last = null;
    while (tag.find()) last = tag.group(1);
    if (last != null && !last.isBlank()) return Optional.of(last.strip());
    List<MathSpans.Span> spans = MathSpans.find(text);
    Optional<String> phrase = afterPhrase(text, spans);
    if (phrase.isPresent()) return phrase;
    Matcher option = OPTION_FIRST.matcher(text); // "B. Because the others fail": an option letter said first
    if (option.lookingAt()) return Optional.of(option.group(1));
    return lastSpanOrNumber(text, spans);
  }

  // ---- boxes ------------------------------------------------------------------------------------------------

  /** Contents of the last {@code \boxed{}} or {@code \fbox{}}, braces balanced. */
  public static Optional<String> lastBoxed(String text) {
    List<int[]> boxes = boxes(text);
    return boxes.isEmpty() ? Optional.empty() : Optional.of(content(text, boxes.get(boxes.size() - 1)));
  }

  /** The last box, joined with the boxes right before it when only separators stand between them. */
  static Optional<String> joinedBoxes(String text) {
    List<int[]> boxes = boxes(text);
    if (boxes.isEmpty()) return Optional.empty();
    int first = boxes.size() - 1;
    while (first > 0 && joins(text.substring(boxes.get(first - 1)[3], boxes.get(first)[0]))) first--;
    List<String> parts = new ArrayList<>();
    for (int k = first; k < boxes.size(); k++) parts.add(content(text, boxes.get(k)));
    return Optional.of(String.join(", ", parts));
  }

  /**
   * Boxes join when nothing stands between them, or separators with a comma or "and" ("$$\\boxed{20}$$
   * \\boxed{143}" does not; "\\boxed{15\\frac{39}{40}}, or \\boxed{\\frac{639}{40}}" gives alternatives, not a list).
   */
  private static boolean joins(String between) {
    if (between.isEmpty()) return true;
    return BOX_JOINER.matcher(between).matches() && LIST_WORD.matcher(between).find();
  }

  /** Whether a percent sign or word follows the last box ("\\boxed{20} percent"); {@link Latex} reads it on references. */
  static boolean percentAfterLastBox(String text) {
    List<int[]> boxes = boxes(text);
    if (boxes.isEmpty()) return false;
    int end = boxes.get(boxes.size() - 1)[3];
    return PERCENT_AFTER.matcher(text.substring(end, Math.min(text.length(), end + 16))).lookingAt();
  }

  private static String content(String text, int[] box) {
    return text.substring(box[1], box[2]).strip();
  }

  /** Every closed, non-empty box in order: {start, content start, content end, end}. Unclosed boxes are skipped. */
  private static List<int[]> boxes(String text) {
    List<int[]> out = new ArrayList<>();
    int at = 0;
    while (true) {
      int b = text.indexOf("\\boxed", at), f = text.indexOf("\\fbox", at);
      int start = b < 0 ? f : f < 0 ? b : Math.min(b, f);
      if (start < 0) return out;
      int i = start + (text.startsWith("\\boxed", start) ? 6 : 5);
      int afterName = i;
      while (i < text.length() && text.charAt(i) == ' ') i++;
      if (i < text.length() && text.charAt(i) == '{') {
        int close = matchBrace(text, i);
        if (close > 0) {
          if (!text.substring(i + 1, close).isBlank()) out.add(new int[] {start, i + 1, close, close + 1}); // not "\\boxed{}"
          at = close + 1;
          continue;
        }
      } else if (i > afterName && i < text.length()) { // "\boxed 5": up to the next space, '$' or end
        int j = i;
        while (j < text.length() && " $\n".indexOf(text.charAt(j)) < 0) j++;
        if (j > i) {
          out.add(new int[] {start, i, j, j});
          at = j;
          continue;
        }
      }
      at = afterName;
    }
  }

  /** Index of the brace closing the one at {@code open}, or -1 when unbalanced. Escaped braces count too. */
  static int matchBrace(String s, int open) {
    int depth = 0;
    for (int i = open; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '{') depth++;
      else if (c == '}' && --depth == 0) return i;
    }
    return -1;
  }

  // ---- answer phrases ---------------------------------------------------------------------------------------

  /** What follows the last answer phrase that is followed by something: a math span, else a short answer. */
  private static Optional<String> afterPhrase(String text, List<MathSpans.Span> spans) {
    Matcher m = PHRASE.matcher(text);
    List<Integer> ends = new ArrayList<>();
    while (m.find()) ends.add(m.end());
    for (int k = ends.size() - 1; k >= 0; k--) {
      Optional<String> found = tail(text, ends.get(k), spans);
      if (found.isPresent()) return found;
    }
    return Optional.empty();
  }

  private static Optional<String> tail(String text, int from, List<MathSpans.Span> spans) {
    int i = from;
    while (i < text.length() && (Character.isWhitespace(text.charAt(i)) || ":*".indexOf(text.charAt(i)) >= 0)) i++;
    for (MathSpans.Span s : spans) { // the phrase is followed right away by math
      if (s.start() == i) return s.malformed() ? Optional.empty() : nonBlank(computationResult(s.content()));
    }
    Matcher end = SENTENCE_END.matcher(text);
    int stop = end.find(i) ? end.start() : text.length();
    int sentenceEnd = stop;
    String sentence = text.substring(i, stop);
    int is = sentence.lastIndexOf(" is ");
    int offset = i;
    if (is >= 0) {
      offset = i + is + 4;
      sentence = sentence.substring(is + 4);
    }
    for (MathSpans.Span s : spans) {
      if (s.start() >= offset && s.start() < sentenceEnd) {
        return s.malformed() ? Optional.empty() : nonBlank(computationResult(s.content()));
      }
    }
    String plain = sentence.replace("**", "").replace("$", "").strip();
    while (!plain.isEmpty() && ".,;:!".indexOf(plain.charAt(plain.length() - 1)) >= 0) {
      plain = plain.substring(0, plain.length() - 1).strip();
    }
    if (plain.isEmpty()) return Optional.empty();
    Matcher letter = LEADING_LETTER.matcher(plain); // "the answer is C) 4.5": the option letter
    if (letter.find()) return Optional.of(letter.group(1));
    if (SHORT_ANSWER.matcher(plain).matches() || !WORD.matcher(COMMAND.matcher(plain).replaceAll(" ")).find()) {
      return Optional.of(plainNumber(plain)); // "the answer is -\\frac{1}{2}": LaTeX without delimiters
    }
    Matcher n = PLAIN_NUMBER.matcher(plain);
    return n.find() ? Optional.of(plainNumber(n.group())) : Optional.empty();
  }

  // ---- the last math span or plain number -------------------------------------------------------------------

  private static Optional<String> lastSpanOrNumber(String text, List<MathSpans.Span> spans) {
    MathSpans.Span lastSpan = null;
    for (MathSpans.Span s : spans) if (!s.malformed() && !s.content().isBlank()) lastSpan = s;
    StringBuilder outside = new StringBuilder(text); // blank out every span, malformed ones too
    for (MathSpans.Span s : spans) for (int j = s.start(); j < s.end(); j++) outside.setCharAt(j, ' ');
    String plainText = outside.toString();
    String whole = text.strip();
    if (lastSpan == null && whole.indexOf('\n') < 0 && whole.length() <= 100 && !WORD.matcher(COMMAND.matcher(whole).replaceAll(" ")).find()) {
      return Optional.of(plainNumber(whole)); // the whole completion is one expression: "\frac{10}{9}", "11 - 4/9"
    }
    Matcher n = PLAIN_NUMBER.matcher(plainText);
    String number = null;
    int numberEnd = -1;
    while (n.find()) {
      number = n.group();
      numberEnd = n.end();
    }
    if (lastSpan != null && (number == null || lastSpan.end() >= numberEnd)) {
      return nonBlank(computationResult(lastSpan.content()));
    }
    return number == null ? Optional.empty() : Optional.of(plainNumber(number));
  }

  /**
   * The result a math span states: for a chain {@code a = b = c} the last side, for {@code 5 \times 6 = 30}
   * (no variable on the left) the right-hand side; an equation such as {@code 2x + 3y = 6} or an assignment
   * {@code x = 3} stays whole ({@link Equivalence} decides). Anything after {@code \approx} is dropped when an
   * exact value precedes it.
   */
  static String computationResult(String span) {
    String s = span.strip();
    List<String> sides = Structure.splitTop(s, "=");
    if (sides.size() >= 3 || (sides.size() == 2 && !hasLetters(sides.get(0)) && !sides.get(0).isBlank())) {
      if (sides.size() >= 3 && Structure.isName(sides.get(0).strip())) return s;
      s = sides.get(sides.size() - 1).strip();
    }
    List<String> approx = Structure.splitTop(s, "\\approx");
    if (approx.size() > 1 && !approx.get(0).isBlank() && sides.size() >= 2) s = approx.get(0).strip();
    return s;
  }

  private static boolean hasLetters(String latex) {
    String bare = COMMAND.matcher(latex).replaceAll("");
    for (int i = 0; i < bare.length(); i++) if (Character.isLetter(bare.charAt(i))) return true;
    return false;
  }

  /** A plain-text number as LaTeX: decimal comma to point ("2,74"), mixed number "4 4/9" kept for {@link Latex}. */
  static String plainNumber(String s) {
    String t = s.strip();
    Matcher dc = DECIMAL_COMMA.matcher(t);
    if (dc.matches() && (dc.group(2).length() != 3 || dc.group(1).replace("-", "").replace("+", "").equals("0"))) {
      return dc.group(1) + "." + dc.group(2);
    }
    return t;
  }

  private static Optional<String> nonBlank(String s) {
    return s == null || s.isBlank() ? Optional.empty() : Optional.of(s.strip());
  }

  private static final Pattern LETTER_ANCHORED = Pattern.compile("(?i)answer\\s*(?:is)?\\s*[:：]?\\s*\\$?\\(?\\\\?(?:text\\{)?\\(?([A-D])\\)?(?![A-Za-z])");
  private static final Pattern LETTER_BOXED = Pattern.compile("^\\(?(?:\\\\text\\{)?\\(?([A-D])\\)?\\}?\\)?$");
  private static final Pattern LETTER_ALONE = Pattern.compile("(?<![A-Za-z])\\(?([A-D])\\)?(?![A-Za-z])");

  /**
   * The multiple-choice letter (A-D) a completion picks: "Answer: X" (the GPQA template), else a boxed letter,
   * else the last stand-alone capital A-D on the last non-empty line.
   */
  public static Optional<Character> letter(String text) {
    if (text == null) return Optional.empty();
    Matcher m = LETTER_ANCHORED.matcher(text);
    Character found = null;
    while (m.find()) found = Character.toUpperCase(m.group(1).charAt(0));
    if (found != null) return Optional.of(found);
    Optional<String> boxed = lastBoxed(text);
    if (boxed.isPresent()) {
      Matcher b = LETTER_BOXED.matcher(boxed.get().strip());
      if (b.matches()) return Optional.of(b.group(1).charAt(0));
    }
    String[] lines = text.strip().split("\n");
    Matcher a = LETTER_ALONE.matcher(lines[lines.length - 1]);
    while (a.find()) found = a.group(1).charAt(0);
    return Optional.ofNullable(found);
  }
}
