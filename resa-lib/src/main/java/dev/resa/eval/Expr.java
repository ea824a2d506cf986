package dev.resa.eval;

import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/** A parsed scalar expression; {@link #eval} computes it for given variable values. Built by {@link ExprParser}. */
public sealed interface Expr {
  Complex eval(Map<String, Complex> vars);

  /** Adds the names of free variables to {@code out}. */
  void variables(Set<String> out);

  record Num(Complex value) implements Expr {
    public Complex eval(Map<String, Complex> vars) {
      return value;
    }

    public void variables(Set<String> out) {}
  }

  record Var(String name) implements Expr {
    public Complex eval(Map<String, Complex> vars) {
      Complex v = vars.get(name);
      if (v == null) throw new IllegalStateException("unbound variable " + name);
      return v;
    }

    public void variables(Set<String> out) {
      out.add(name);
    }
  }

  /** {@code op} is one of {@code + - * / ^}, {@code r} (n-th root: a = radicand, b = n) or {@code C} (binomial). */
  record Bin(char op, Expr a, Expr b) implements Expr {
    public Complex eval(Map<String, Complex> vars) {
      Complex x = a.eval(vars), y = b.eval(vars);
      return switch (op) {
        case '+' -> x.plus(y);
        case '-' -> x.minus(y);
        case '*' -> x.times(y);
        case '/' -> x.div(y);
        case '^' -> x.pow(y);
        case 'r' -> x.root(y);
        case 'C' -> binomial(x, y);
        default -> throw new IllegalStateException("operator " + op);
      };
    }

    public void variables(Set<String> out) {
      a.variables(out);
      b.variables(out);
    }

    private static Complex binomial(Complex n, Complex k) {
      if (!n.isReal() || !k.isReal() || k.re() != Math.rint(k.re()) || k.re() < 0) return new Complex(Double.NaN, Double.NaN);
      double r = 1;
      for (int i = 1; i <= (int) k.re(); i++) r = r * (n.re() - k.re() + i) / i;
      return Complex.real(Math.rint(r) == r || Math.abs(r - Math.rint(r)) < 1e-9 * Math.abs(r) ? Math.rint(r) : r);
    }
  }

  record Fn(String name, UnaryOperator<Complex> f, Expr arg) implements Expr {
    public Complex eval(Map<String, Complex> vars) {
      return f.apply(arg.eval(vars));
    }

    public void variables(Set<String> out) {
      arg.variables(out);
    }
  }
}
