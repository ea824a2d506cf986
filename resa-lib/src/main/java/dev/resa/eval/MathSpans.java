package dev.resa.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds the LaTeX math spans of a completion: {@code $$…$$} and {@code \[…\]} (may run over lines), {@code $…$}
 * and {@code \(…\)} (inline: a pair that runs over a line break is malformed, as math-verify treats it, and its
 * content is no answer). An escaped {@code \$} is a dollar sign, not a delimiter.
 */
final class MathSpans {
  private MathSpans() {}

  /** One span: {@code [start, end)} covers the delimiters; {@code content} is what lies between them. */
  record Span(int start, int end, String content, boolean malformed) {}

  static List<Span> find(String text) {
    List<Span> out = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '\\' && i + 1 < text.length()) {
        char d = text.charAt(i + 1);
        if (d == '(' || d == '[') {
          String close = d == '(' ? "\\)" : "\\]";
          int end = text.indexOf(close, i + 2);
          if (end < 0) {
            i += 2;
            continue;
          }
          String content = text.substring(i + 2, end);
          out.add(new Span(i, end + 2, content, d == '(' && content.indexOf('\n') >= 0));
          i = end + 2;
          continue;
        }
        i += 2; // \$ and other escapes
        continue;
      }
      if (c == '$') {
        boolean display = i + 1 < text.length() && text.charAt(i + 1) == '$';
        int from = i + (display ? 2 : 1);
        int end = closingDollar(text, from, display);
        if (end < 0) {
          i = from;
          continue;
        }
        String content = text.substring(from, end);
        out.add(new Span(i, end + (display ? 2 : 1), content, !display && content.indexOf('\n') >= 0));
        i = end + (display ? 2 : 1);
        continue;
      }
      i++;
    }
    return out;
  }

  private static int closingDollar(String text, int from, boolean display) {
    for (int j = from; j < text.length(); j++) {
      char c = text.charAt(j);
      if (c == '\\') {
        j++;
        continue;
      }
      if (c != '$') continue;
      if (!display) return j;
      if (j + 1 < text.length() && text.charAt(j + 1) == '$') return j;
    }
    return -1;
  }
}
