package dev.resa.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides whether a predicted answer equals a reference answer, math-verify style, with no time limit (use
 * {@link Grader} for that). Both sides are normalised ({@link Latex}), split into structure (tuples, intervals,
 * sets, unions, lists of several answers, equations and inequalities, {@code \pm} pairs, matrices) and the scalar
 * leaves compared by value: numbers within a relative tolerance, expressions with free variables by evaluating
 * both at several seeded random points (the numeric form of "simplify(a - b) == 0"). What does not parse as
 * mathematics is compared as text.
 */
public final class Equivalence {
  /** Relative tolerance for numbers: {@code 0.333333} equals {@code 1/3}, {@code 0.33} does not. */
  public static final double REL_TOL = 1e-6;

  /** Random points at which expressions with free variables are compared. */
  static final int POINTS = 6;

  private Equivalence() {}

  /** True when {@code pred} and {@code ref} denote the same answer. */
  public static boolean equal(String pred, String ref) {
    String p = Latex.normalize(pred), r = Latex.normalize(ref);
    if (p.equals(r)) return true;
    if (p.isEmpty() || r.isEmpty()) return false;
    return same(structure(p), structure(r));
  }

  // ---- structure ------------------------------------------------------------------------------------------

  sealed interface Node permits Text, Scalar, Seq, Union, Relation {}

  record Text(String text) implements Node {}

  record Scalar(Expr expr) implements Node {}

  /** open/close are "(" ")" "[" "]" "{" "}" for tuples, intervals and sets; "" for a bare list; "M" for matrix rows. */
  record Seq(String open, String close, List<Node> items) implements Node {
    boolean unordered() {
      return open.isEmpty() || open.equals("{");
    }
  }

  record Union(List<Node> parts) implements Node {}

  record Relation(String op, Node lhs, Node rhs, String lhsText) implements Node {}

  private static final String[] RELATIONS = {"\\leq", "\\geq", "\\ne", "\\approx", "\\in", "<=", ">=", "=", "<", ">", "\\lt", "\\gt"};
  private static final Pattern MATRIX = Pattern.compile("^\\\\begin\\{[pbvB]?matrix\\}(.*)\\\\end\\{[pbvB]?matrix\\}$", Pattern.DOTALL);
  private static final Pattern LETTER_RUN = Pattern.compile("[A-Za-z]{3}");
  private static final Pattern NAME = Pattern.compile("\\\\?[A-Za-z]+(_\\{?[A-Za-z0-9]+\\}?)?'*|[A-Za-z]\\([A-Za-z]\\)");
  private static final Pattern TEXT_NOISE = Pattern.compile("\\\\text|\\\\mathrm|\\\\textbf|[{}\\s]");
  private static final Pattern WORDS = Pattern.compile("^[A-Za-z][A-Za-z .'-]*[A-Za-z.]$");

  static Node structure(String s) {
    s = s.strip();
    if (s.isEmpty()) return new Text("");
    for (String pm : new String[] {"\\pm", "\\mp"}) { // anywhere, also inside \frac{1 \pm \sqrt{5}}{2}
      int at = s.indexOf(pm);
      while (at >= 0 && followedByLetter(s, at + pm.length())) at = s.indexOf(pm, at + 1); // not \pmod
      if (at >= 0) {
        String plus = s.substring(0, at) + "+" + s.substring(at + pm.length());
        String minus = s.substring(0, at) + "-" + s.substring(at + pm.length());
        return new Seq("", "", List.of(structure(plus), structure(minus)));
      }
    }
    Matcher matrix = MATRIX.matcher(s);
    if (matrix.matches()) {
      List<Node> rows = new ArrayList<>();
      for (String row : matrix.group(1).split("\\\\\\\\")) {
        if (row.isBlank()) continue;
        List<Node> cells = new ArrayList<>();
        for (String cell : row.split("&")) cells.add(structure(cell));
        rows.add(new Seq("(", ")", cells));
      }
      return new Seq("M", "M", rows);
    }
    List<String> union = splitTop(s, "\\cup");
    if (union.size() > 1) {
      List<Node> parts = new ArrayList<>();
      for (String part : union) parts.add(structure(part));
      return new Union(parts);
    }
    if (s.startsWith("\\{") && s.endsWith("\\}") && closesAtEnd(s, 0)) {
      return seq("{", "}", s.substring(2, s.length() - 2));
    }
    if ((s.startsWith("(") || s.startsWith("[")) && (s.endsWith(")") || s.endsWith("]")) && closesAtEnd(s, 0)) {
      String inner = s.substring(1, s.length() - 1);
      if (splitTop(inner, ",").size() > 1) return seq(s.substring(0, 1), s.substring(s.length() - 1), inner);
    }
    List<String> items = splitTop(s, ",");
    if (items.size() == 1) items = splitTop(s, ";");
    if (items.size() == 1) items = splitTop(s, " and ");
    if (items.size() > 1) {
      List<Node> nodes = new ArrayList<>();
      for (String it : items) nodes.add(structure(it));
      return new Seq("", "", nodes);
    }
    for (String op : RELATIONS) {
      int at = topLevel(s, op);
      if (at > 0) {
        String lhs = s.substring(0, at).strip();
        String rhs = s.substring(at + op.length()).strip();
        if (op.equals("=")) { // a = b = 3: the outer sides
          int again = topLevel(rhs, "=");
          if (again >= 0) rhs = rhs.substring(again + 1).strip();
        }
        String canon = switch (op) {
          case "<=", "\\leq" -> "<=";
          case ">=", "\\geq" -> ">=";
          case "\\lt" -> "<";
          case "\\gt" -> ">";
          default -> op;
        };
        return new Relation(canon, structure(lhs), structure(rhs), lhs);
      }
    }
    if (WORDS.matcher(s).matches() && LETTER_RUN.matcher(s).find()) {
      return new Text(s);
    }
    try {
      return new Scalar(ExprParser.parse(s));
    } catch (ExprParser.ParseException | RuntimeException e) {
      return new Text(s);
    }
  }

  private static Seq seq(String open, String close, String inner) {
    List<Node> nodes = new ArrayList<>();
    for (String it : splitTop(inner, ",")) nodes.add(structure(it));
    return new Seq(open, close, nodes);
  }

  /** Splits at occurrences of {@code sep} outside any brackets. */
  static List<String> splitTop(String s, String sep) {
    List<String> out = new ArrayList<>();
    int depth = 0, last = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == '{' || s.charAt(i + 1) == '}')) {
        depth += s.charAt(i + 1) == '{' ? 1 : -1;
        i++;
        continue;
      }
      if (c == '(' || c == '[' || c == '{') depth++;
      else if (c == ')' || c == ']' || c == '}') depth--;
      else if (depth == 0 && s.startsWith(sep, i) && !(sep.startsWith("\\") && followedByLetter(s, i + sep.length()))) {
        out.add(s.substring(last, i));
        last = i + sep.length();
        i = last - 1;
      }
    }
    out.add(s.substring(last));
    return out;
  }

  private static boolean followedByLetter(String s, int i) {
    return i < s.length() && Character.isLetter(s.charAt(i));
  }

  /** Index of the first top-level occurrence of {@code token}, or -1. */
  static int topLevel(String s, String token) {
    List<String> parts = splitTop(s, token);
    return parts.size() > 1 ? parts.get(0).length() : -1;
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

  // ---- comparison -----------------------------------------------------------------------------------------

  static boolean same(Node p, Node r) {
    if (p instanceof Seq ps && ps.items().size() == 1) return same(ps.items().get(0), r);
    if (r instanceof Seq rs && rs.items().size() == 1) return same(p, rs.items().get(0));
    if (p instanceof Relation pr && !(r instanceof Relation) && isAssignment(pr)) return same(pr.rhs(), r);
    if (r instanceof Relation rr && !(p instanceof Relation) && isAssignment(rr)) {
      return same(p, rr.rhs());
    }
    if (p instanceof Text || r instanceof Text) return text(p).equals(text(r)) && !text(p).isEmpty();
    if (p instanceof Scalar a && r instanceof Scalar b) return sameValue(a.expr(), b.expr());
    if (p instanceof Relation a && r instanceof Relation b) return sameRelation(a, b);
    if (p instanceof Union a && r instanceof Union b) return matchUnordered(a.parts(), b.parts());
    if (p instanceof Seq a && r instanceof Seq b) {
      if (a.items().size() != b.items().size()) return false;
      if (a.unordered() && b.unordered()) return matchUnordered(a.items(), b.items());
      boolean brackets = a.open().equals(b.open()) && a.close().equals(b.close());
      if (!brackets && !a.open().isEmpty() && !b.open().isEmpty()) return false;
      for (int i = 0; i < a.items().size(); i++) if (!same(a.items().get(i), b.items().get(i))) return false;
      return true;
    }
    return false;
  }

  /** {@code x = 3} or {@code x \in [1, 2]}: the answer is the right-hand side. */
  private static boolean isAssignment(Relation r) {
    return (r.op().equals("=") || r.op().equals("\\in")) && isName(r.lhsText());
  }

  private static boolean isName(String lhs) {
    return NAME.matcher(lhs).matches();
  }

  private static boolean sameRelation(Relation a, Relation b) {
    if (a.op().equals(b.op()) && same(a.lhs(), b.lhs()) && same(a.rhs(), b.rhs())) return true;
    String flipped = switch (a.op()) {
      case "<" -> ">";
      case ">" -> "<";
      case "<=" -> ">=";
      case ">=" -> "<=";
      default -> a.op();
    };
    if (flipped.equals(b.op()) && same(a.lhs(), b.rhs()) && same(a.rhs(), b.lhs())) return true;
    if (a.op().equals("=") && b.op().equals("=") && a.lhs() instanceof Scalar al && a.rhs() instanceof Scalar ar
        && b.lhs() instanceof Scalar bl && b.rhs() instanceof Scalar br) {
      Expr da = new Expr.Bin('-', al.expr(), ar.expr());
      Expr db = new Expr.Bin('-', bl.expr(), br.expr());
      return sameValue(da, db) || sameValue(da, new Expr.Bin('-', new Expr.Num(Complex.ZERO), db));
    }
    return false;
  }

  /** Greedy one-to-one matching; enough for the short lists answers contain. */
  private static boolean matchUnordered(List<Node> a, List<Node> b) {
    if (a.size() != b.size()) return false;
    boolean[] used = new boolean[b.size()];
    outer:
    for (Node x : a) {
      for (int j = 0; j < b.size(); j++) {
        if (!used[j] && same(x, b.get(j))) {
          used[j] = true;
          continue outer;
        }
      }
      return false;
    }
    return true;
  }

  /** Numeric equality; with free variables, equality at every one of {@link #POINTS} seeded random points. */
  static boolean sameValue(Expr a, Expr b) {
    Set<String> vars = new LinkedHashSet<>();
    a.variables(vars);
    b.variables(vars);
    double zeroFloor = inexact(a) || inexact(b) ? 1e-12 : 0;
    if (vars.isEmpty()) return a.eval(Map.of()).near(b.eval(Map.of()), REL_TOL, zeroFloor);
    Random rng = new Random(20250611L);
    int compared = 0;
    for (int k = 0; k < POINTS; k++) {
      Map<String, Complex> at = new HashMap<>();
      for (String v : vars) at.put(v, Complex.real(0.3 + 1.4 * rng.nextDouble()));
      Complex x = a.eval(at), y = b.eval(at);
      if (x.isNaN() && y.isNaN()) continue;
      if (!x.near(y, REL_TOL, zeroFloor)) return false;
      compared++;
    }
    return compared >= 2;
  }

  /** Whether evaluation can leave rounding noise where the exact value is 0 (functions, pi, e, irrational powers). */
  private static boolean inexact(Expr e) {
    if (e instanceof Expr.Fn) return true;
    if (e instanceof Expr.Num n) return n.value().re() == Math.PI || n.value().re() == Math.E;
    if (e instanceof Expr.Bin b) {
      if (b.op() == 'r' || inexact(b.a()) || inexact(b.b())) return true;
      if (b.op() != '^') return false;
      Set<String> vars = new LinkedHashSet<>();
      b.b().variables(vars);
      if (!vars.isEmpty()) return true;
      Complex power = b.b().eval(Map.of()); // 10^{-27} is exact enough; 2^{1/2} is not
      return !(power.isReal() && power.re() == Math.rint(power.re()));
    }
    return false;
  }

  private static String text(Node n) {
    if (!(n instanceof Text t)) return "\u0000" + n; // never equal to a text answer
    String s = t.text();
    s = TEXT_NOISE.matcher(s.toLowerCase(Locale.ROOT)).replaceAll("");
    if (s.length() >= 2 && s.startsWith("(") && s.endsWith(")")) s = s.substring(1, s.length() - 1);
    if (s.endsWith(".")) s = s.substring(0, s.length() - 1);
    return s;
  }
}
