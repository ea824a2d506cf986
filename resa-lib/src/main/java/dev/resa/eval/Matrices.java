package dev.resa.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sums, differences and products of numeric matrices written out in LaTeX ({@code \begin{pmatrix}1&2\\3&4
 * \end{pmatrix} + \begin{pmatrix}…\end{pmatrix}}), evaluated to one matrix so an answer given as the computation
 * compares with its result, as math-verify's does. Anything else (symbolic entries, other operators) is left alone.
 */
final class Matrices {
  private Matrices() {}

  private static final Pattern MATRIX = Pattern.compile("\\\\begin\\{[pbvB]?matrix\\}(.*?)\\\\end\\{[pbvB]?matrix\\}", Pattern.DOTALL);
  private static final Pattern OPERATOR = Pattern.compile("\\s*([-+*]?)\\s*");

  /** The LaTeX of the evaluated matrix, or null when {@code s} is not an expression of two or more numeric matrices. */
  static String evaluate(String s) {
    Matcher m = MATRIX.matcher(s);
    List<Complex[][]> terms = new ArrayList<>();
    List<Character> ops = new ArrayList<>();
    int last = 0;
    while (m.find()) {
      Matcher op = OPERATOR.matcher(s.substring(last, m.start()));
      if (!op.matches()) return null;
      if (!terms.isEmpty()) ops.add(op.group(1).isEmpty() ? '*' : op.group(1).charAt(0));
      else if (!op.group(1).isEmpty()) return null;
      Complex[][] a = parse(m.group(1));
      if (a == null) return null;
      terms.add(a);
      last = m.end();
    }
    if (terms.size() < 2 || !s.substring(last).isBlank()) return null;
    Complex[][] acc = terms.get(0); // products first, then sums, left to right
    List<Complex[][]> sums = new ArrayList<>();
    List<Character> signs = new ArrayList<>();
    for (int k = 0; k < ops.size(); k++) {
      char op = ops.get(k);
      if (op == '*') {
        acc = times(acc, terms.get(k + 1));
      } else {
        sums.add(acc);
        signs.add(op);
        acc = terms.get(k + 1);
      }
      if (acc == null) return null;
    }
    sums.add(acc);
    Complex[][] result = sums.get(0);
    for (int k = 1; k < sums.size(); k++) {
      result = plus(result, sums.get(k), signs.get(k - 1) == '-' ? -1 : 1);
      if (result == null) return null;
    }
    return latex(result);
  }

  private static Complex[][] parse(String body) {
    List<Complex[]> rows = new ArrayList<>();
    for (String row : body.split("\\\\\\\\")) {
      if (row.isBlank()) continue;
      String[] cells = row.split("&");
      Complex[] r = new Complex[cells.length];
      for (int j = 0; j < cells.length; j++) {
        try {
          Expr e = ExprParser.parse(cells[j].strip());
          java.util.Set<String> vars = new java.util.HashSet<>();
          e.variables(vars);
          if (!vars.isEmpty()) return null;
          r[j] = e.eval(Map.of());
        } catch (ExprParser.ParseException | RuntimeException ex) {
          return null;
        }
      }
      if (!rows.isEmpty() && rows.get(0).length != r.length) return null;
      rows.add(r);
    }
    return rows.isEmpty() ? null : rows.toArray(new Complex[0][]);
  }

  private static Complex[][] times(Complex[][] a, Complex[][] b) {
    if (a[0].length != b.length) return null;
    Complex[][] c = new Complex[a.length][b[0].length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < b[0].length; j++) {
        Complex sum = Complex.ZERO;
        for (int k = 0; k < b.length; k++) sum = sum.plus(a[i][k].times(b[k][j]));
        c[i][j] = sum;
      }
    }
    return c;
  }

  private static Complex[][] plus(Complex[][] a, Complex[][] b, int sign) {
    if (a.length != b.length || a[0].length != b[0].length) return null;
    Complex[][] c = new Complex[a.length][a[0].length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[0].length; j++) c[i][j] = sign > 0 ? a[i][j].plus(b[i][j]) : a[i][j].minus(b[i][j]);
    }
    return c;
  }

  /** Real entries written with full precision ({@code Double.toString} round-trips), complex ones as {@code a+bi}. */
  private static String latex(Complex[][] m) {
    StringBuilder sb = new StringBuilder("\\begin{pmatrix}");
    for (int i = 0; i < m.length; i++) {
      if (i > 0) sb.append("\\\\");
      for (int j = 0; j < m[i].length; j++) {
        if (j > 0) sb.append('&');
        Complex z = m[i][j];
        sb.append('(').append(exact(z.re()));
        if (z.im() != 0) sb.append(z.im() < 0 ? '-' : '+').append(exact(Math.abs(z.im()))).append("i");
        sb.append(')');
      }
    }
    return sb.append("\\end{pmatrix}").toString();
  }

  private static String exact(double x) {
    return x == Math.rint(x) && Math.abs(x) < 1e15 ? Long.toString((long) x) : Double.toString(x).replace("E", "e");
  }
}
