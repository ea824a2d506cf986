package dev.resa.eval;

/** A complex number: enough arithmetic to evaluate answers such as {@code 6 - 5i} or {@code e^{i\pi/3}}. */
public record Complex(double re, double im) {
  public static final Complex ZERO = new Complex(0, 0);
  public static final Complex ONE = new Complex(1, 0);
  public static final Complex I = new Complex(0, 1);

  public static Complex real(double x) {
    return new Complex(x, 0);
  }

  public boolean isReal() {
    return im == 0 || Math.abs(im) <= 1e-12 * Math.max(1, Math.abs(re));
  }

  public boolean isNaN() {
    return Double.isNaN(re) || Double.isNaN(im);
  }

  public boolean isInfinite() {
    return Double.isInfinite(re) || Double.isInfinite(im);
  }

  public double abs() {
    return Math.hypot(re, im);
  }

  public Complex plus(Complex o) {
    return new Complex(re + o.re, im + o.im);
  }

  public Complex minus(Complex o) {
    return new Complex(re - o.re, im - o.im);
  }

  public Complex negate() {
    return new Complex(-re, -im);
  }

  public Complex times(Complex o) {
    if (im == 0 && o.im == 0) return real(re * o.re);
    return new Complex(re * o.re - im * o.im, re * o.im + im * o.re);
  }

  public Complex div(Complex o) {
    if (im == 0 && o.im == 0) return real(re / o.re);
    double d = o.re * o.re + o.im * o.im;
    return new Complex((re * o.re + im * o.im) / d, (im * o.re - re * o.im) / d);
  }

  public Complex exp() {
    double m = Math.exp(re);
    return im == 0 ? real(m) : new Complex(m * Math.cos(im), m * Math.sin(im));
  }

  /** Principal logarithm. */
  public Complex log() {
    if (im == 0 && re > 0) return real(Math.log(re));
    return new Complex(Math.log(abs()), Math.atan2(im, re));
  }

  /** Real powers stay real when they can (so {@code (-8)^{1/3}} is not silently complex: use {@link #root}). */
  public Complex pow(Complex e) {
    if (im == 0 && e.im == 0 && (re >= 0 || e.re == Math.rint(e.re))) return real(Math.pow(re, e.re));
    if (re == 0 && im == 0) return e.re > 0 ? ZERO : new Complex(Double.NaN, Double.NaN);
    return e.times(log()).exp();
  }

  /** n-th root; the real root of a negative real for odd n, as in {@code \sqrt[3]{-8} = -2}. */
  public Complex root(Complex n) {
    if (im == 0 && n.im == 0 && re < 0 && n.re == Math.rint(n.re) && ((long) n.re) % 2 != 0) {
      return real(-Math.pow(-re, 1 / n.re));
    }
    return pow(ONE.div(n));
  }

  public Complex sqrt() {
    if (im == 0 && re >= 0) return real(Math.sqrt(re));
    return pow(real(0.5));
  }

  public Complex sin() {
    return im == 0 ? real(Math.sin(re)) : new Complex(Math.sin(re) * Math.cosh(im), Math.cos(re) * Math.sinh(im));
  }

  public Complex cos() {
    return im == 0 ? real(Math.cos(re)) : new Complex(Math.cos(re) * Math.cosh(im), -Math.sin(re) * Math.sinh(im));
  }

  /**
   * Equal within a relative tolerance, so {@code 1.3e-27} and {@code 4.6e-24} differ. Against an exact zero the
   * other side must be at most {@code zeroFloor} (pass 1e-12 when rounding noise such as {@code sin(pi)} is
   * possible, 0 otherwise). Infinities are equal when identical.
   */
  public boolean near(Complex o, double relTol, double zeroFloor) {
    if (isNaN() || o.isNaN()) return false;
    if (isInfinite() || o.isInfinite()) return re == o.re && im == o.im;
    if (abs() == 0 || o.abs() == 0) return Math.max(abs(), o.abs()) <= zeroFloor;
    return minus(o).abs() <= relTol * Math.max(abs(), o.abs());
  }
}
