package dev.resa.eval;

import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Recursive-descent parser for the LaTeX of one scalar answer (after {@link Latex#normalize}): numbers
 * (decimals, {@code 4.5e33}), {@code + - * /}, implicit products ({@code 2x}, {@code 3\sqrt{2}}), powers,
 * {@code \frac}, {@code \sqrt[n]{}}, {@code \binom}, {@code |x|}, {@code n!}, trigonometric / log / exp
 * functions with or without parentheses ({@code \sin^2 x}, {@code \log_2 8}), {@code \pi}, {@code e}, {@code i},
 * {@code \infty}, Greek and subscripted variables ({@code r_{0}}, {@code x'}). Anything else is a
 * {@link ParseException}: the caller then compares the answers as text.
 */
public final class ExprParser {
  /** Not a scalar expression we understand. */
  public static final class ParseException extends Exception {
    ParseException(String message) {
      super(message);
    }
  }

  private static final Map<String, UnaryOperator<Complex>> FUNCTIONS = Map.ofEntries(
      Map.entry("sin", Complex::sin),
      Map.entry("cos", Complex::cos),
      Map.entry("tan", z -> z.sin().div(z.cos())),
      Map.entry("cot", z -> z.cos().div(z.sin())),
      Map.entry("sec", z -> Complex.ONE.div(z.cos())),
      Map.entry("csc", z -> Complex.ONE.div(z.sin())),
      Map.entry("arcsin", real(Math::asin)),
      Map.entry("arccos", real(Math::acos)),
      Map.entry("arctan", real(Math::atan)),
      Map.entry("sinh", real(Math::sinh)),
      Map.entry("cosh", real(Math::cosh)),
      Map.entry("tanh", real(Math::tanh)),
      Map.entry("ln", Complex::log),
      Map.entry("log", Complex::log),
      Map.entry("exp", Complex::exp),
      Map.entry("sqrt", Complex::sqrt),
      Map.entry("abs", z -> Complex.real(z.abs())),
      Map.entry("floor", real(Math::floor)),
      Map.entry("ceil", real(Math::ceil)));

  private static final Set<String> GREEK = Set.of(
      "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
      "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma",
      "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega", "hbar", "ell", "odot", "star", "prime");

  private static final Set<String> ACCENTS = Set.of("dot", "ddot", "hat", "bar", "vec", "tilde", "overline", "mathbf", "boldsymbol");

  private static UnaryOperator<Complex> real(java.util.function.DoubleUnaryOperator f) {
    return z -> z.isReal() ? Complex.real(f.applyAsDouble(z.re())) : new Complex(Double.NaN, Double.NaN);
  }

  private final String s;
  private int pos;

  private ExprParser(String s) {
    this.s = s;
  }

  /** Parses a whole string as one expression. */
  public static Expr parse(String latex) throws ParseException {
    ExprParser p = new ExprParser(latex);
    Expr e = p.sum();
    p.skip();
    if (p.pos != p.s.length()) throw new ParseException("unexpected '" + p.s.substring(p.pos) + "' in " + latex);
    return e;
  }

  private void skip() {
    while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) pos++;
  }

  private boolean eat(String token) {
    skip();
    if (s.startsWith(token, pos)) {
      if (token.startsWith("\\") && Character.isLetter(token.charAt(token.length() - 1))
          && pos + token.length() < s.length() && Character.isLetter(s.charAt(pos + token.length()))) {
        return false;
      }
      pos += token.length();
      return true;
    }
    return false;
  }

  private char peek() {
    skip();
    return pos < s.length() ? s.charAt(pos) : '\0';
  }

  private Expr sum() throws ParseException {
    Expr e;
    if (eat("-")) e = new Expr.Bin('*', num(-1), product());
    else {
      eat("+");
      e = product();
    }
    while (true) {
      if (eat("+")) e = new Expr.Bin('+', e, product());
      else if (eat("-")) e = new Expr.Bin('-', e, product());
      else return e;
    }
  }

  private Expr product() throws ParseException {
    Expr e = power();
    while (true) {
      if (eat("*")) e = new Expr.Bin('*', e, signedPower());
      else if (eat("/")) e = new Expr.Bin('/', e, signedPower());
      else if (startsAtom()) e = new Expr.Bin('*', e, power());
      else return e;
    }
  }

  private Expr signedPower() throws ParseException {
    if (eat("-")) return new Expr.Bin('*', num(-1), power());
    return power();
  }

  /** Whether the next token can begin an implicit factor. */
  private boolean startsAtom() {
    char c = peek();
    if (c == '\0') return false;
    if (Character.isLetterOrDigit(c) || c == '(' || c == '{' || c == '[' || c == '.' || c == 'π' || c == '∞') return true;
    if (c == '\\') {
      if (s.startsWith("\\}", pos) || s.startsWith("\\)", pos) || s.startsWith("\\]", pos) || s.startsWith("\\rfloor", pos)
          || s.startsWith("\\rceil", pos)) {
        return false;
      }
      return pos + 1 < s.length() && (Character.isLetter(s.charAt(pos + 1)) || s.charAt(pos + 1) == '{');
    }
    return false;
  }

  private Expr power() throws ParseException {
    Expr base = postfix();
    if (eat("^")) {
      Expr exponent = exponent();
      return new Expr.Bin('^', base, exponent);
    }
    return base;
  }

  private Expr exponent() throws ParseException {
    skip();
    if (peek() == '{') return group('{', '}');
    if (eat("-")) return new Expr.Bin('*', num(-1), exponent());
    if (Character.isDigit(peek())) return num(Double.parseDouble(String.valueOf(s.charAt(pos++))));
    return postfix();
  }

  private Expr postfix() throws ParseException {
    Expr e = atom();
    while (eat("!")) e = new Expr.Fn("factorial", ExprParser::factorial, e);
    return e;
  }

  private Expr atom() throws ParseException {
    char c = peek();
    if (c == '\0') throw new ParseException("unexpected end of " + s);
    if (Character.isDigit(c) || c == '.') return number();
    if (c == '(') return group('(', ')');
    if (c == '[') return group('[', ']');
    if (c == '{') return group('{', '}');
    if (c == '|') {
      pos++;
      Expr inner = sum();
      if (!eat("|")) throw new ParseException("unclosed |...| in " + s);
      return new Expr.Fn("abs", FUNCTIONS.get("abs"), inner);
    }
    if (c == 'π') {
      pos++;
      return num(Math.PI);
    }
    if (c == '∞') {
      pos++;
      return num(Double.POSITIVE_INFINITY);
    }
    if (c == '\\') return command();
    if (Character.isLetter(c)) return word();
    throw new ParseException("unexpected '" + c + "' in " + s);
  }

  private Expr number() throws ParseException {
    int start = pos;
    while (pos < s.length() && (Character.isDigit(s.charAt(pos)) || s.charAt(pos) == '.')) pos++;
    // scientific notation: 4.5e33, 1e-3 (an "e" followed by digits; a bare "e" stays Euler's number)
    if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
      int q = pos + 1;
      if (q < s.length() && (s.charAt(q) == '-' || s.charAt(q) == '+')) q++;
      int digits = q;
      while (q < s.length() && Character.isDigit(s.charAt(q))) q++;
      if (q > digits) pos = q;
    }
    String text = s.substring(start, pos);
    try {
      return num(Double.parseDouble(text));
    } catch (NumberFormatException e) {
      throw new ParseException("bad number '" + text + "' in " + s);
    }
  }

  private Expr group(char open, char close) throws ParseException {
    skip();
    pos++; // open
    Expr e = sum();
    skip();
    if (pos >= s.length() || s.charAt(pos) != close) throw new ParseException("expected '" + close + "' in " + s);
    pos++;
    return e;
  }

  /** A brace group's raw text, used for subscripts and accents. */
  private String rawGroup() throws ParseException {
    skip();
    if (pos < s.length() && s.charAt(pos) == '{') {
      int close = Answers.matchBrace(s, pos);
      if (close < 0) throw new ParseException("unbalanced braces in " + s);
      String inner = s.substring(pos + 1, close).replace(" ", "");
      pos = close + 1;
      return inner;
    }
    if (pos < s.length() && s.charAt(pos) == '\\') {
      int start = pos++;
      while (pos < s.length() && Character.isLetter(s.charAt(pos))) pos++;
      return s.substring(start, pos);
    }
    if (pos < s.length()) return String.valueOf(s.charAt(pos++));
    throw new ParseException("missing argument in " + s);
  }

  private Expr command() throws ParseException {
    int start = ++pos;
    while (pos < s.length() && Character.isLetter(s.charAt(pos))) pos++;
    String name = s.substring(start, pos);
    switch (name) {
      case "frac":
        return new Expr.Bin('/', argument(), argument());
      case "binom":
        return new Expr.Bin('C', argument(), argument());
      case "sqrt": {
        Expr index = null;
        if (peek() == '[') index = group('[', ']');
        Expr radicand = argument();
        return index == null ? new Expr.Fn("sqrt", Complex::sqrt, radicand) : new Expr.Bin('r', radicand, index);
      }
      case "pi":
        return num(Math.PI);
      case "infty":
      case "infin":
        return num(Double.POSITIVE_INFINITY);
      case "lfloor": {
        Expr inner = sum();
        if (!eat("\\rfloor")) throw new ParseException("unclosed \\lfloor in " + s);
        return new Expr.Fn("floor", FUNCTIONS.get("floor"), inner);
      }
      case "lceil": {
        Expr inner = sum();
        if (!eat("\\rceil")) throw new ParseException("unclosed \\lceil in " + s);
        return new Expr.Fn("ceil", FUNCTIONS.get("ceil"), inner);
      }
      case "":
        if (pos < s.length() && s.charAt(pos) == '{') {
          pos++;
          Expr inner = sum();
          if (!eat("\\}")) throw new ParseException("unclosed \\{ in " + s);
          return inner;
        }
        throw new ParseException("stray backslash in " + s);
      default:
    }
    if (FUNCTIONS.containsKey(name)) return function(name);
    if (GREEK.contains(name)) return variable(name);
    if (ACCENTS.contains(name)) return variable(name + rawGroup());
    throw new ParseException("unknown command \\" + name + " in " + s);
  }

  /** {@code \sin x}, {@code \sin(x)}, {@code \sin^2 x}, {@code \log_2 8}, {@code \log_{b} x}. */
  private Expr function(String name) throws ParseException {
    Expr base = null;
    if (name.equals("log") && eat("_")) base = subscriptValue();
    Expr power = null;
    if (eat("^")) power = exponent();
    Expr arg;
    char c = peek();
    if (c == '(' || c == '{' || c == '[') arg = power();
    else {
      arg = power();
      while (startsAtom() && !startsFunction()) arg = new Expr.Bin('*', arg, power());
    }
    Expr applied = new Expr.Fn(name, FUNCTIONS.get(name), arg);
    if (base != null) applied = new Expr.Bin('/', applied, new Expr.Fn("ln", Complex::log, base));
    return power == null ? applied : new Expr.Bin('^', applied, power);
  }

  private Expr subscriptValue() throws ParseException {
    skip();
    if (peek() == '{') return group('{', '}');
    return atom();
  }

  private boolean startsFunction() {
    skip();
    if (pos >= s.length() || s.charAt(pos) != '\\') return false;
    int q = pos + 1;
    while (q < s.length() && Character.isLetter(s.charAt(q))) q++;
    return FUNCTIONS.containsKey(s.substring(pos + 1, q));
  }

  private Expr argument() throws ParseException {
    skip();
    if (peek() == '{') return group('{', '}');
    if (Character.isDigit(peek())) return num(Double.parseDouble(String.valueOf(s.charAt(pos++))));
    return atom();
  }

  /** Letters without a backslash: bare function names (sqrt, sin, pi), else one single-letter variable. */
  private Expr word() throws ParseException {
    for (String f : new String[] {"arcsin", "arccos", "arctan", "sqrt", "sin", "cos", "tan", "exp", "ln", "log"}) {
      if (s.startsWith(f, pos) && pos + f.length() < s.length() && "( {".indexOf(s.charAt(pos + f.length())) >= 0) {
        pos += f.length();
        return function(f);
      }
    }
    if (s.startsWith("pi", pos) && (pos + 2 >= s.length() || !Character.isLetter(s.charAt(pos + 2)))) {
      pos += 2;
      return num(Math.PI);
    }
    char c = s.charAt(pos++);
    if ((Character.isUpperCase(c) || "fgh".indexOf(c) >= 0) && pos < s.length() && s.charAt(pos) == '(') {
      // I(0), f(x): function notation, kept as an opaque symbol named by its argument text (never "I times 0")
      int close = closingParen(pos);
      if (close > 0) {
        String name = c + s.substring(pos, close + 1).replace(" ", "");
        pos = close + 1;
        return new Expr.Var(name);
      }
    }
    if (c == 'i' && !followedBySubscript()) return new Expr.Num(Complex.I);
    if (c == 'e' && !followedBySubscript()) return num(Math.E);
    return variable(String.valueOf(c));
  }

  private int closingParen(int open) {
    int depth = 0;
    for (int i = open; i < s.length(); i++) {
      if (s.charAt(i) == '(') depth++;
      else if (s.charAt(i) == ')' && --depth == 0) return i;
    }
    return -1;
  }

  private boolean followedBySubscript() {
    return pos < s.length() && (s.charAt(pos) == '_' || s.charAt(pos) == '\'');
  }

  /** A variable name plus any subscript ({@code r_{0}}) and primes ({@code x'}, {@code x^{\prime}}). */
  private Expr variable(String name) throws ParseException {
    StringBuilder full = new StringBuilder(name);
    while (true) {
      if (pos < s.length() && s.charAt(pos) == '_') {
        pos++;
        full.append('_').append(rawGroup());
      } else if (pos < s.length() && s.charAt(pos) == '\'') {
        pos++;
        full.append('\'');
      } else if (s.startsWith("^{\\prime}", pos)) {
        pos += 9;
        full.append('\'');
      } else if (s.startsWith("^\\prime", pos)) {
        pos += 7;
        full.append('\'');
      } else {
        return new Expr.Var(full.toString());
      }
    }
  }

  private static Expr num(double v) {
    return new Expr.Num(Complex.real(v));
  }

  private static Complex factorial(Complex z) {
    if (!z.isReal() || z.re() < 0 || z.re() != Math.rint(z.re()) || z.re() > 170) return new Complex(Double.NaN, Double.NaN);
    double r = 1;
    for (int i = 2; i <= (int) z.re(); i++) r *= i;
    return Complex.real(r);
  }
}
