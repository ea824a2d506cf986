package dev.resa.eval;

import dev.resa.eval.Structure.Node;
import dev.resa.eval.Structure.Range;
import dev.resa.eval.Structure.Relation;
import dev.resa.eval.Structure.Scalar;
import dev.resa.eval.Structure.Seq;
import dev.resa.eval.Structure.Text;
import dev.resa.eval.Structure.Union;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
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
 * {@link Grader} for that). Both sides are normalised ({@link Latex}) and split into their shape
 * ({@link Structure}); scalar leaves are compared by value: with a decimal on either side both are rounded to
 * {@link Options#floatRounding} places (math-verify's float_rounding), otherwise they must agree to 1e-9; with free
 * variables, at several seeded random points. Relations compare up to flipping sides, equations up to a non-zero
 * multiple. The order of the arguments matters where math-verify's does: a reference written as a relation
 * ({@code x \ge 2}) accepts an interval ({@code [2, \infty)}), not the other way round; a reference percent
 * ({@code 28\%}) accepts 28 and 0.28, a predicted percent means its value over 100.
 */
public final class Equivalence {
  /**
   * How strictly to compare.
   *
   * @param floatRounding decimal places kept when a decimal is involved (math-verify's default: 6)
   * @param strict variables must have the same names (true, math-verify's default); false matches them by
   *     order of appearance, so {@code f(x)} equals {@code f(y)}
   */
  public record Options(int floatRounding, boolean strict) {
    public static final Options DEFAULT = new Options(6, true);
  }

  /** Relative tolerance for exact values (no decimal written on either side). */
  static final double EXACT_TOL = 1e-9;

  /** Random points at which expressions with free variables are compared. */
  static final int POINTS = 6;

  private static final Pattern DECIMAL = Pattern.compile("\\d\\.\\d|(?<![\\d.])\\.\\d|\\de[-+]?\\d");
  private static final Pattern INTEGER = Pattern.compile("-?\\d+");
  private static final Pattern DECIMAL_COMMA = Pattern.compile("^(-?)(\\d+),(\\d+)$");
  private static final Pattern TEXT_OR_MATH = Pattern.compile("\\\\text\\s*\\{[^}]*\\}|\\$[^$]*\\$");
  private static final Pattern PROSE = Pattern.compile("\\b[A-Za-z]{2,}\\s+[A-Za-z]{2,}\\s+[A-Za-z]{2,}\\b");
  private static final Pattern TEXT_NOISE = Pattern.compile("\\\\text|\\\\mathrm|\\\\textbf|[{}\\s]");

  private Equivalence() {}

  /** True when {@code pred} and {@code ref} denote the same answer, with the default options. */
  public static boolean equal(String pred, String ref) {
    return equal(pred, ref, Options.DEFAULT);
  }

  /** True when {@code pred} and {@code ref} denote the same answer. */
  public static boolean equal(String pred, String ref, Options options) {
    Latex.Answer p = Latex.parse(answerOf(pred)), r = Latex.parse(answerOf(ref));
    if (p.math().isEmpty() || r.math().isEmpty()) return false;
    if (!p.unit().isEmpty() && !r.unit().isEmpty() && !p.unit().equals(r.unit())) return false; // 5 cm vs 5 m
    List<String> preds = new ArrayList<>(List.of(p.percent() ? "(" + p.math() + ")/100" : p.math()));
    List<String> refs = new ArrayList<>(List.of(r.math()));
    if (r.percent()) refs.add("(" + r.math() + ")/100"); // 28\% accepts 28 and 0.28
    if (!p.percent() && !r.percent() && p.math().equals(r.math())) return true;
    if (p.percent() == r.percent() && INTEGER.matcher(p.math()).matches() && INTEGER.matcher(r.math()).matches()) {
      return new BigInteger(p.math()).equals(new BigInteger(r.math())); // exact beyond 2^53: 10^20 + 1 is not 10^20
    }
    addDecimalCommaReading(preds, p.math());
    addDecimalCommaReading(refs, r.math());
    for (String a : preds) {
      Node pa = Structure.of(a);
      for (String b : refs) if (a.equals(b) || same(pa, Structure.of(b), options)) return true;
    }
    return false;
  }

  /** A whole solution given as an answer ("... so the final answer is $28\\%$.") stands for what it concludes. */
  private static String answerOf(String s) {
    if (s.contains("\\boxed") || s.contains("\\fbox")) return s; // Latex reads boxes, and a percent after one
    String outside = TEXT_OR_MATH.matcher(s).replaceAll(" ");
    return PROSE.matcher(outside).find() ? Answers.extract(s).orElse(s) : s;
  }

  /** "1,22" or "0,111" is also read as a decimal with a comma (never "1,234": that is a thousands group). */
  private static void addDecimalCommaReading(List<String> readings, String math) {
    Matcher m = DECIMAL_COMMA.matcher(math);
    if (m.matches() && (m.group(3).length() != 3 || m.group(2).equals("0") || m.group(2).length() > 3)) {
      readings.add(m.group(1) + m.group(2) + "." + m.group(3));
    }
  }

  // ---- comparison -----------------------------------------------------------------------------------------

  static boolean same(Node p, Node r, Options o) {
    if (p instanceof Seq ps && ps.items().size() == 1 && !ps.open().equals("M")) return same(ps.items().get(0), r, o);
    if (r instanceof Seq rs && rs.items().size() == 1 && !rs.open().equals("M")) return same(p, rs.items().get(0), o);
    if (p instanceof Relation pr && !(r instanceof Relation) && isAssignment(pr)) return same(pr.rhs(), r, o);
    if (r instanceof Relation rr && !(p instanceof Relation) && !(p instanceof Range) && isAssignment(rr)) {
      return same(p, rr.rhs(), o);
    }
    if (p instanceof Text || r instanceof Text) return !text(p).isEmpty() && text(p).equals(text(r));
    if (p instanceof Scalar a && r instanceof Scalar b) return sameValue(a, b, o);
    if (r instanceof Range rr) { // a reference range accepts the interval or the same range
      if (p instanceof Range pr) return pr.var().equals(rr.var()) && same(pr.interval(), rr.interval(), o);
      if (p instanceof Seq ps && ps.isInterval()) return same(ps, rr.interval(), o);
      if (p instanceof Relation pr) return toRange(pr) instanceof Range x && same(x, rr, o);
      return false;
    }
    if (r instanceof Relation rr && !(p instanceof Relation)) {
      return toRange(rr) instanceof Range x && !(p instanceof Range) && same(p, x, o);
    }
    if (p instanceof Relation a && r instanceof Relation b) return sameRelation(a, b, o);
    if (p instanceof Union a && r instanceof Union b) return matchUnordered(a.parts(), b.parts(), o);
    if (p instanceof Seq a && r instanceof Seq b) {
      if (a.items().size() != b.items().size()) return false;
      if (a.open().equals("M") != b.open().equals("M")) return false;
      if (a.unordered() && b.unordered()) return matchUnordered(a.items(), b.items(), o);
      boolean brackets = a.open().equals(b.open()) && a.close().equals(b.close());
      if (!brackets && !a.open().isEmpty() && !b.open().isEmpty()) return false;
      for (int i = 0; i < a.items().size(); i++) if (!same(a.items().get(i), b.items().get(i), o)) return false;
      return true;
    }
    return false;
  }

  /** {@code x = 3} or {@code x \in [1, 2]}: the answer is the right-hand side. */
  private static boolean isAssignment(Relation r) {
    return (r.op().equals("=") && Structure.isAssignable(r.lhsText())) || (r.op().equals("\\in") && Structure.isName(r.lhsText()));
  }

  /** {@code x \ge 2} as the range {@code [2, \infty)}; null when one side is not a variable or the other has one. */
  private static Node toRange(Relation r) {
    if (!Structure.isInequality(r.op())) return null;
    boolean nameLeft = Structure.isName(r.lhsText()) && r.rhs() instanceof Scalar;
    boolean nameRight = Structure.isName(r.rhsText()) && r.lhs() instanceof Scalar;
    if (!nameLeft && !nameRight) return null;
    Node bound = nameLeft ? r.rhs() : r.lhs();
    Set<String> vars = new LinkedHashSet<>();
    ((Scalar) bound).expr().variables(vars);
    if (!vars.isEmpty()) return null;
    boolean above = r.op().startsWith(">") == nameLeft; // the variable is above the bound
    boolean closed = r.op().endsWith("=");
    Scalar inf = new Scalar(new Expr.Num(Complex.real(above ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY)), "\\infty");
    Seq interval = above ? new Seq(closed ? "[" : "(", ")", List.of(bound, inf)) : new Seq("(", closed ? "]" : ")", List.of(inf, bound));
    return new Range((nameLeft ? r.lhsText() : r.rhsText()).strip(), interval);
  }

  private static boolean sameRelation(Relation a, Relation b, Options o) {
    if (toRange(a) instanceof Range ra && toRange(b) instanceof Range rb) return same(ra, rb, o);
    if (a.op().equals(b.op()) && same(a.lhs(), b.lhs(), o) && same(a.rhs(), b.rhs(), o)) return true;
    String flipped = switch (a.op()) {
      case "<" -> ">";
      case ">" -> "<";
      case "<=" -> ">=";
      case ">=" -> "<=";
      default -> a.op();
    };
    if (flipped.equals(b.op()) && same(a.lhs(), b.rhs(), o) && same(a.rhs(), b.lhs(), o)) return true;
    if (!(a.lhs() instanceof Scalar al && a.rhs() instanceof Scalar ar && b.lhs() instanceof Scalar bl && b.rhs() instanceof Scalar br)) {
      return false;
    }
    Expr da = new Expr.Bin('-', al.expr(), ar.expr()), db = new Expr.Bin('-', bl.expr(), br.expr());
    String latex = al.latex() + ar.latex() + bl.latex() + br.latex();
    if (a.op().equals(b.op()) && (a.op().equals("=") || a.op().equals("\\ne"))) return proportional(da, db);
    if (a.op().equals(b.op())) return sameValue(new Scalar(da, latex), new Scalar(db, ""), o); // lhs - rhs agree
    if (flipped.equals(b.op()) && Structure.isInequality(a.op())) { // -x > -1 is x < 1
      return sameValue(new Scalar(da, latex), new Scalar(new Expr.Bin('*', new Expr.Num(Complex.real(-1)), db), ""), o);
    }
    return false;
  }

  /** Whether two equations {@code da = 0} and {@code db = 0} differ by a constant non-zero factor. */
  private static boolean proportional(Expr da, Expr db) {
    Set<String> vars = new LinkedHashSet<>();
    da.variables(vars);
    db.variables(vars);
    if (vars.isEmpty()) return false;
    Random rng = new Random(20250611L);
    Complex ratio = null;
    for (int k = 0; k < POINTS; k++) {
      Map<String, Complex> at = point(vars, rng);
      Complex x = da.eval(at), y = db.eval(at);
      if (x.isNaN() || y.isNaN() || x.isInfinite() || y.isInfinite() || y.abs() < 1e-9 || x.abs() < 1e-9) return false;
      Complex q = x.div(y);
      if (ratio == null) ratio = q;
      else if (!q.near(ratio, EXACT_TOL * 100, 0)) return false;
    }
    return true;
  }

  /** Greedy one-to-one matching; enough for the short lists answers contain. */
  private static boolean matchUnordered(List<Node> a, List<Node> b, Options o) {
    if (a.size() != b.size()) return false;
    boolean[] used = new boolean[b.size()];
    outer:
    for (Node x : a) {
      for (int j = 0; j < b.size(); j++) {
        if (!used[j] && same(x, b.get(j), o)) {
          used[j] = true;
          continue outer;
        }
      }
      return false;
    }
    return true;
  }

  /** Numeric equality; with free variables, equality at every one of {@link #POINTS} seeded random points. */
  static boolean sameValue(Scalar sa, Scalar sb, Options o) {
    Expr a = sa.expr(), b = sb.expr();
    boolean decimals = DECIMAL.matcher(sa.latex()).find() || DECIMAL.matcher(sb.latex()).find();
    Set<String> va = new LinkedHashSet<>(), vb = new LinkedHashSet<>();
    a.variables(va);
    b.variables(vb);
    Map<String, String> rename = new HashMap<>(); // non-strict: b's variables take a's names, in order
    if (!o.strict() && !va.equals(vb) && va.size() == vb.size()) {
      List<String> la = new ArrayList<>(va), lb = new ArrayList<>(vb);
      for (int i = 0; i < la.size(); i++) rename.put(lb.get(i), la.get(i));
    }
    Set<String> vars = new LinkedHashSet<>(va);
    for (String v : vb) vars.add(rename.getOrDefault(v, v));
    double zeroFloor = inexact(a) || inexact(b) ? 1e-12 : 0;
    if (vars.isEmpty()) {
      Complex x = a.eval(Map.of()), y = b.eval(Map.of());
      return decimals ? rounded(x, y, o.floatRounding()) : x.near(y, EXACT_TOL, zeroFloor);
    }
    Random rng = new Random(20250611L);
    int compared = 0;
    for (int k = 0; k < POINTS; k++) {
      Map<String, Complex> at = point(vars, rng);
      Map<String, Complex> atB = new HashMap<>(at);
      for (Map.Entry<String, String> e : rename.entrySet()) atB.put(e.getKey(), at.get(e.getValue()));
      Complex x = a.eval(at), y = b.eval(atB);
      if (x.isNaN() && y.isNaN()) continue;
      if (!x.near(y, decimals ? Math.pow(10, -o.floatRounding()) : EXACT_TOL, zeroFloor)) return false;
      compared++;
    }
    return compared >= 2;
  }

  private static Map<String, Complex> point(Set<String> vars, Random rng) {
    Map<String, Complex> at = new HashMap<>();
    for (String v : vars) at.put(v, Complex.real(0.3 + 1.4 * rng.nextDouble()));
    return at;
  }

  /**
   * math-verify's float_rounding: equal when both round to the same number at {@code places} decimals. Values
   * that both round to zero must also agree relatively, so 1.3e-27 and 4.6e-24 stay different.
   */
  static boolean rounded(Complex x, Complex y, int places) {
    if (x.isNaN() || y.isNaN()) return false;
    if (x.isInfinite() || y.isInfinite()) return x.re() == y.re() && x.im() == y.im();
    return rounded(x.re(), y.re(), places) && rounded(x.im(), y.im(), places);
  }

  private static boolean rounded(double x, double y, int places) {
    if (x == y || Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y))) return true; // binary noise
    BigDecimal rx = BigDecimal.valueOf(x).setScale(places, RoundingMode.HALF_UP);
    BigDecimal ry = BigDecimal.valueOf(y).setScale(places, RoundingMode.HALF_UP);
    if (rx.compareTo(ry) != 0) return false;
    if (rx.signum() != 0) return true;
    return Math.abs(x - y) <= Math.pow(10, -places) * Math.max(Math.abs(x), Math.abs(y)) * 1e3 && Math.signum(x) == Math.signum(y);
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
