package dev.resa.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a normalised answer ({@link Latex}) into its shape: tuples, intervals, sets, unions, bare lists,
 * {@code \pm} pairs, matrices, relations and ranges ({@code -2 \le x \le 7}); the leaves are scalar expressions
 * ({@link ExprParser}) or, when they do not parse as mathematics, text. {@link Equivalence} compares the shapes.
 */
final class Structure {
  private Structure() {}

  sealed interface Node permits Text, Scalar, Seq, Union, Relation, Range {}

  record Text(String text) implements Node {}

  /** A scalar and the LaTeX it came from (decimals in it switch the comparison to rounding). */
  record Scalar(Expr expr, String latex) implements Node {}

  /** open/close are "(" ")" "[" "]" "{" "}" for tuples, intervals and sets; "" for a bare list; "M" for matrix rows. */
  record Seq(String open, String close, List<Node> items) implements Node {
    boolean unordered() {
      return open.isEmpty() || open.equals("{");
    }

    boolean isInterval() {
      return items.size() == 2 && ("([".contains(open) && !open.isEmpty()) && (")]".contains(close) && !close.isEmpty());
    }
  }

  record Union(List<Node> parts) implements Node {}

  /** op is one of = \ne < <= > >= \in; the sides' LaTeX is kept to recognise assignments ({@code x = 3}). */
  record Relation(String op, Node lhs, Node rhs, String lhsText, String rhsText) implements Node {}

  /** A variable confined to an interval: {@code 1 < x \le 3}, {@code x \ge 2}. */
  record Range(String var, Seq interval) implements Node {}

  private static final String[] RELATIONS = {"\\leq", "\\geq", "\\ne", "\\approx", "\\in", "\\lt", "\\gt", "<=", ">=", "=", "<", ">"};
  private static final Pattern MATRIX = Pattern.compile("^\\\\begin\\{[pbvB]?matrix\\}(.*)\\\\end\\{[pbvB]?matrix\\}$", Pattern.DOTALL);
  private static final Pattern LETTER_RUN = Pattern.compile("[A-Za-z]{3}");
  private static final Pattern NAME = Pattern.compile("\\\\?[A-Za-z]+(_\\{?[A-Za-z0-9]+\\}?)?'*|[A-Za-z]\\([A-Za-z]\\)");
  private static final Pattern WORDS = Pattern.compile("^[A-Za-z][A-Za-z .'-]*[A-Za-z.]$");
  private static final Pattern OR = Pattern.compile("(?<=[)\\]}\\s])or(?=[(\\[{\\s])");
  private static final Pattern SUBSCRIPT = Pattern.compile("_\\{[^}]*\\}|_[A-Za-z0-9]");
  private static final Pattern LABEL = Pattern.compile("[A-Za-z{}:/ ']+");

  static Node of(String s) {
    s = s.strip();
    if (s.isEmpty()) return new Text("");
    s = OR.matcher(s).replaceAll(",");
    if (s.indexOf("\\begin") != s.lastIndexOf("\\begin")) { // A + B, A B: the computed matrix
      String computed = Matrices.evaluate(s);
      if (computed != null) s = computed;
    }
    Matcher matrix = MATRIX.matcher(s);
    if (matrix.matches()) {
      List<Node> rows = new ArrayList<>();
      for (String row : matrix.group(1).split("\\\\\\\\")) {
        if (row.isBlank()) continue;
        List<Node> cells = new ArrayList<>();
        for (String cell : row.split("&")) cells.add(of(cell));
        rows.add(new Seq("(", ")", cells));
      }
      return new Seq("M", "M", rows);
    }
    List<String> union = splitTop(s, "\\cup");
    if (union.size() > 1) return union(union);
    if (s.startsWith("\\{") && s.endsWith("\\}") && closesAtEnd(s, 0)) return seq("{", "}", s.substring(2, s.length() - 2));
    if ((s.startsWith("(") || s.startsWith("[")) && (s.endsWith(")") || s.endsWith("]")) && closesAtEnd(s, 0)) {
      String inner = s.substring(1, s.length() - 1);
      if (splitTop(inner, ",").size() > 1 || splitTop(inner, ";").size() > 1) return seq(s.substring(0, 1), s.substring(s.length() - 1), inner);
    }
    if (s.startsWith("{") && s.endsWith("}") && closesAtEnd(s, 0) && splitTop(s.substring(1, s.length() - 1), ",").size() > 1) {
      return seq("", "", s.substring(1, s.length() - 1)); // ${1,3}$: LaTeX grouping braces around a list
    }
    List<String> items = splitTop(s, ",");
    if (items.size() == 1) items = splitTop(s, ";");
    if (items.size() == 1) items = splitTop(s, " and ");
    if (items.size() > 1) return seq("", "", items);
    for (String pm : new String[] {"\\pm", "\\mp"}) { // anywhere, also inside \frac{1 \pm \sqrt{5}}{2}
      int at = s.indexOf(pm);
      while (at >= 0 && followedByLetter(s, at + pm.length())) at = s.indexOf(pm, at + 1); // not \pmod
      if (at >= 0) {
        String plus = s.substring(0, at) + "+" + s.substring(at + pm.length());
        String minus = s.substring(0, at) + "-" + s.substring(at + pm.length());
        return seq("", "", List.of(plus, minus));
      }
    }
    Node relation = relation(s);
    if (relation != null) return relation;
    if (WORDS.matcher(s).matches() && LETTER_RUN.matcher(s).find()) return new Text(s);
    try {
      return new Scalar(ExprParser.parse(s), s);
    } catch (ExprParser.ParseException | RuntimeException e) {
      return new Text(s);
    }
  }

  /** A union; one of finite sets only is the set of all their elements ({1,3} ∪ {2,4} = {1,2,3,4}). */
  private static Node union(List<String> partsText) {
    List<Node> parts = new ArrayList<>();
    boolean finite = true;
    for (String part : partsText) {
      Node n = of(part);
      parts.add(n);
      finite &= n instanceof Seq q && (q.open().equals("{") || (q.open().isEmpty() && part.strip().startsWith("{")));
    }
    if (!finite) return new Union(parts);
    List<Node> all = new ArrayList<>();
    for (Node n : parts) all.addAll(((Seq) n).items());
    return new Seq("{", "}", all);
  }

  private static Seq seq(String open, String close, String inner) {
    List<String> items = splitTop(inner, ",");
    if (items.size() == 1) items = splitTop(inner, ";"); // (0;-2;6)
    return seq(open, close, items);
  }

  /** A sequence of items; in a set or bare list an item that is itself a bare list (a {@code \pm} pair) is spliced in. */
  private static Seq seq(String open, String close, List<String> items) {
    List<Node> nodes = new ArrayList<>();
    for (String it : items) {
      if (it.strip().startsWith("and ")) it = it.strip().substring(4); // "19, 46, and 82"
      Node n = of(it);
      if ((open.isEmpty() || open.equals("{")) && n instanceof Seq q && q.open().isEmpty()) nodes.addAll(q.items());
      else nodes.add(n);
    }
    return new Seq(open, close, nodes);
  }

  /** Relations: chains of inequalities around one variable become ranges; chains of '=' keep their outer sides. */
  private static Node relation(String s) {
    List<int[]> ops = topLevel(s, RELATIONS); // {position, index in RELATIONS}
    List<String> names = new ArrayList<>();
    for (int[] op : ops) names.add(canonical(RELATIONS[op[1]]));
    if (ops.isEmpty() || ops.get(0)[0] == 0) return null;
    List<String> sides = new ArrayList<>();
    int from = 0;
    for (int[] op : ops) {
      sides.add(s.substring(from, op[0]).strip());
      from = op[0] + RELATIONS[op[1]].length();
    }
    sides.add(s.substring(from).strip());
    for (int k = 0; k < names.size(); k++) {
      if (names.get(k).equals("\\approx") && k > 0) { // x = 1/3 \approx 0.33: the exact value counts
        return relation(String.join(" " + names.get(0) + " ", sides.subList(0, k + 1)).replace("\\approx", "="));
      }
    }
    if (names.size() == 2 && isInequality(names.get(0)) && isInequality(names.get(1)) && isName(sides.get(1))) {
      boolean up = names.get(0).startsWith("<"), up2 = names.get(1).startsWith("<");
      if (up == up2) {
        String lo = up ? sides.get(0) : sides.get(2), hi = up ? sides.get(2) : sides.get(0);
        boolean loClosed = (up ? names.get(0) : names.get(1)).endsWith("=");
        boolean hiClosed = (up ? names.get(1) : names.get(0)).endsWith("=");
        return new Range(sides.get(1), new Seq(loClosed ? "[" : "(", hiClosed ? "]" : ")", List.of(of(lo), of(hi))));
      }
    }
    if (names.stream().allMatch(n -> n.equals("=") || n.equals("\\approx"))) {
      String lhs = sides.get(0), rhs = sides.get(sides.size() - 1);
      for (int k = 1; k < sides.size() - 1 && !isName(lhs); k++) if (isName(sides.get(k))) lhs = sides.get(k);
      return new Relation("=", of(lhs), of(rhs), lhs, rhs);
    }
    if (names.size() > 1) return new Text(s); // f(2) < f(1) < f(4): compared as written
    return new Relation(names.get(0), of(sides.get(0)), of(sides.get(1)), sides.get(0), sides.get(1));
  }

  private static String canonical(String op) {
    return switch (op) {
      case "<=", "\\leq" -> "<=";
      case ">=", "\\geq" -> ">=";
      case "\\lt" -> "<";
      case "\\gt" -> ">";
      default -> op;
    };
  }

  static boolean isInequality(String op) {
    return op.startsWith("<") || op.startsWith(">");
  }

  static boolean isName(String text) {
    return NAME.matcher(text.strip()).matches();
  }

  /**
   * What may stand left of an assignment: a name ({@code x}, {@code a_3}, {@code f(x)}), a tuple of names
   * ({@code (p,q)}) or a label made of names ({@code AB}, {@code \frac{NO}{BO}}, {@code V_1:V_2}), never a sum
   * or anything with a number ({@code 2x + z}, {@code 7}).
   */
  static boolean isAssignable(String text) {
    String t = text.strip();
    if (isName(t)) return true;
    if (t.length() > 2 && t.startsWith("(") && t.endsWith(")")) {
      List<String> parts = splitTop(t.substring(1, t.length() - 1), ",");
      return parts.size() > 1 && parts.stream().allMatch(Structure::isName);
    }
    String bare = SUBSCRIPT.matcher(t).replaceAll("").replace("\\frac", "");
    return LABEL.matcher(bare).matches() && bare.chars().anyMatch(Character::isLetter);
  }

  /** Splits at occurrences of {@code sep} outside any brackets. */
  static List<String> splitTop(String s, String sep) {
    List<String> out = new ArrayList<>();
    int last = 0;
    for (int[] at : topLevel(s, new String[] {sep})) {
      out.add(s.substring(last, at[0]));
      last = at[0] + sep.length();
    }
    out.add(s.substring(last));
    return out;
  }

  /**
   * Occurrences of any of {@code tokens} outside brackets ({@code ( [ \{} and escaped {@code \{}), left to right,
   * as {position, index of the token}; the first token that matches at a position wins. A command token such as
   * {@code \in} does not match the start of a longer command ({@code \infty}).
   */
  private static List<int[]> topLevel(String s, String[] tokens) {
    List<int[]> out = new ArrayList<>();
    int depth = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == '{' || s.charAt(i + 1) == '}')) {
        depth += s.charAt(i + 1) == '{' ? 1 : -1;
        i++;
        continue;
      }
      if (c == '(' || c == '[' || c == '{') depth++;
      else if (c == ')' || c == ']' || c == '}') depth--;
      else if (depth == 0) {
        for (int t = 0; t < tokens.length; t++) {
          String tok = tokens[t];
          if (s.startsWith(tok, i) && !(tok.startsWith("\\") && followedByLetter(s, i + tok.length()))) {
            out.add(new int[] {i, t});
            i += tok.length() - 1;
            break;
          }
        }
      }
    }
    return out;
  }

  private static boolean followedByLetter(String s, int i) {
    return i < s.length() && Character.isLetter(s.charAt(i));
  }

  /** Whether the bracket opening at {@code open} is closed by the string's last character. */
  private static boolean closesAtEnd(String s, int open) {
    int depth = 0;
    for (int i = open; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == '{' || s.charAt(i + 1) == '}')) {
        depth += s.charAt(i + 1) == '{' ? 1 : -1;
        i++;
      } else if (c == '(' || c == '[' || c == '{') depth++;
      else if (c == ')' || c == ']' || c == '}') depth--;
      else continue;
      if (depth == 0) return i == s.length() - 1;
    }
    return false;
  }
}
