package dev.resa.eval;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pulls the final answer out of a model completion or a reference solution, in math-verify's order of trust:
 * the last {@code \boxed{...}} / {@code \fbox{...}} (nested braces and the brace-less {@code \boxed 5} form),
 * then the last {@code <answer>...</answer>}, then the text after the last "final answer is" or "Answer:", then
 * the last number in the text. Everything returned is raw LaTeX; {@link Latex} normalises it.
 */
public final class Answers {
  private Answers() {}

  private static final Pattern ANSWER_TAG = Pattern.compile("(?s)<answer>(.*?)</answer>");
  private static final Pattern FINAL_IS = Pattern.compile("(?i)final answer is[:\\s]*");
  private static final Pattern ANSWER_COLON = Pattern.compile("(?i)answer\\s*:\\s*");
  private static final Pattern NUMBER = Pattern.compile("-?\\d[\\d,]*(?:\\.\\d+)?|-?\\.\\d+");

  /** The answer a completion commits to, or empty when it commits to nothing. */
  public static Optional<String> extract(String text) {
    if (text == null) return Optional.empty();
    Optional<String> boxed = lastBoxed(text);
    if (boxed.isPresent()) return boxed;
    Matcher tag = ANSWER_TAG.matcher(text);
    String last = null;
    while (tag.find()) last = tag.group(1);
    if (last != null && !last.isBlank()) return Optional.of(last.strip());
    for (Pattern anchor : new Pattern[] {FINAL_IS, ANSWER_COLON}) {
      Matcher m = anchor.matcher(text);
      int end = -1;
      while (m.find()) end = m.end();
      if (end >= 0) {
        String tail = firstLine(text.substring(end));
        if (!tail.isBlank()) return Optional.of(tail);
      }
    }
    Matcher n = NUMBER.matcher(text);
    String num = null;
    while (n.find()) num = n.group();
    return Optional.ofNullable(num);
  }

  /** Contents of the last {@code \boxed{}} or {@code \fbox{}}, braces balanced. */
  public static Optional<String> lastBoxed(String text) {
    int at = Math.max(text.lastIndexOf("\\boxed"), text.lastIndexOf("\\fbox"));
    while (at >= 0) {
      int start = at + (text.startsWith("\\boxed", at) ? 6 : 5);
      int i = start;
      while (i < text.length() && text.charAt(i) == ' ') i++;
      if (i < text.length() && text.charAt(i) == '{') {
        int close = matchBrace(text, i);
        if (close > 0) return Optional.of(text.substring(i + 1, close).strip());
      } else if (i > start && i < text.length()) {
        int j = i; // "\boxed 5": up to the next space, '$' or end
        while (j < text.length() && " $\n".indexOf(text.charAt(j)) < 0) j++;
        if (j > i) return Optional.of(text.substring(i, j));
      }
      int prev = Math.max(text.lastIndexOf("\\boxed", at - 1), text.lastIndexOf("\\fbox", at - 1));
      at = prev;
    }
    return Optional.empty();
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

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    String line = (nl >= 0 ? s.substring(0, nl) : s).strip();
    if (line.startsWith("$")) { // "$\frac{3}{4}$. I hope it is correct": the math between the dollars
      String inner = line.replaceFirst("^\\$+", "");
      int close = inner.indexOf('$');
      if (close > 0) return inner.substring(0, close).strip();
    }
    line = line.replaceAll("\\$+$", "").strip();
    if (line.endsWith(".")) line = line.substring(0, line.length() - 1);
    return line.strip();
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
