package dev.resa.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Tricky equivalences, written from what math-verify accepts and rejects (pred | ref). */
class EquivalenceTest {
  @ParameterizedTest(name = "{0} == {1}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
      \\frac{1}{2}                       | 0.5
      \\dfrac{3}{4}                      | \\tfrac{3}{4}
      \\frac 59                          | \\frac{5}{9}
      3/4                                | \\frac{3}{4}
      025                                | 25
      1,000                              | 1000
      10{,}000                           | 10000
      1\\,000\\,000                      | 1000000
      \\$18                              | 18
      18 \\text{ dollars}                | 18
      50\\%                              | 0.5
      50                                 | 50\\%
      50\\%                              | 50\\%
      30^\\circ                          | 30
      30^{\\circ}                        | 30
      5 \\text{ cm}                      | 5
      6.5 \\mathrm{~cm}                  | 6.5
      x = 3                              | 3
      3                                  | y=3
      \\left( 3, \\frac{\\pi}{2} \\right) | (3,\\frac{\\pi}{2})
      \\sqrt{8}                          | 2\\sqrt{2}
      \\frac{\\sqrt{3}}{3}               | \\frac{1}{\\sqrt{3}}
      \\sqrt[3]{-8}                      | -2
      2\\pi                              | \\pi \\cdot 2
      288 \\pi                           | 288\\pi
      \\pi r^2                           | r^2\\pi
      x^2+2x+1                           | (x+1)^2
      \\frac{x}{2} - \\frac{1}{4}        | \\frac{2x-1}{4}
      \\{1,2,3\\}                        | \\{3,2,1\\}
      1, 2                               | 2, 1
      3 \\pm 2\\sqrt{2}                  | 3+2\\sqrt{2}, 3-2\\sqrt{2}
      (0,9) \\cup (9,36)                 | (9,36) \\cup (0,9)
      [1, 2)                             | [1,2)
      8.7e8                              | 8.7 \\times 10^{8}
      1e-3                               | 10^{-3}
      -1./3                              | -\\frac{1}{3}
      1+\\sqrt{3} i                      | 1 + i\\sqrt{3}
      6 - 5i                             | -5i+6
      \\text{Evelyn}                     | Evelyn
      \\text{(C)}                        | (C)
      137 \\frac{1}{2}                   | \\frac{275}{2}
      \\sin^2 x + \\cos^2 x              | 1
      \\log_2 8                          | 3
      \\binom{5}{2}                      | 10
      5!                                 | 120
      0.333333                           | \\frac{1}{3}
      \\frac{dx}{dt}=kx-a                | \\frac{d x}{d t}=k x-a
      \\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix} | \\begin{pmatrix}1\\\\2\\end{pmatrix}
      \\frac{a M^{1 / 3}}{G M^{2 / 3}+b} | \\frac{a M^{1/3}}{G M^{2/3} + b}
      e^{t} / 3                          | \\frac{e^t}{3}
      \\arcsin{\\frac{10}{13}}           | \\arcsin(10/13)
      x \\in [1,2]                       | [1,2]
      \\infty                            | \\infty
      (-\\infty, 3]                      | (-\\infty,3]
      \\boxed{4}                         | 4
      \\sin(\\pi)                       | 0
      \\sqrt{2}^2                        | 2
      I(0) e^{-t}                        | e^{-t} I(0)
      1950^\\circ C                      | 1950
      p - q                              | -q + p
      52_8                               | 52_{8}
      0.5                                | \\frac12
      \\sqrt2/2                          | \\frac{\\sqrt{2}}{2}
      2^{10}                             | 1024
      -\\frac{1}{2}                      | \\frac{-1}{2}
      \\left[ 0, 1 \\right]              | [0,1]
      3\\sqrt{3}                         | \\sqrt{27}
      \\sqrt{3}                          | 3^{1/2}
      e^{i\\pi}                          | -1
      \\ln 8                             | 3\\ln 2
      \\cos\\frac{\\pi}{3}                | \\frac{1}{2}
      a=2, b=3                           | a = 2,b = 3
      y = 2x + 3                         | y=3+2x
      \\{-1, 1\\}                        | \\pm 1
      4\\text{ inches}                   | 4
      \\$1,\\!000                         | 1000
      (-\\infty, -2) \\cup (3, \\infty)    | (-\\infty,-2)\\cup(3,\\infty)
      \\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix} | \\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}
      \\text{odd}                        | odd
      \\frac{1 \\pm \\sqrt{5}}{2}         | \\frac{1+\\sqrt5}{2}, \\frac{1-\\sqrt5}{2}
      """)
  void equal(String pred, String ref) {
    assertEquals(true, Equivalence.equal(pred, ref), pred + " vs " + ref);
  }

  @ParameterizedTest(name = "{0} != {1}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
      \\frac{1}{2}                       | 0.51
      0.33                               | \\frac{1}{3}
      (1,2)                              | [1,2]
      (1,2)                              | (2,1)
      1, 2                               | 1, 2, 3
      2\\sqrt{2}                         | \\sqrt{2}
      x^2+1                              | (x+1)^2
      1.325e-27                          | 4.6e-24
      \\text{Evelyn}                     | \\text{Evenly}
      \\text{(C)}                        | \\text{(B)}
      x = 3                              | x = 4
      3                                  | -3
      6 - 5i                             | 6 + 5i
      \\pi                               | 3.14
      12                                 | 120
      1,000                              | 1
      (0,9) \\cup (9,36)                 | (0,36)
      -\\infty                           | \\infty
      x > 3                              | x < 3
      a                                  | b
      0                                  | I(0)
      0                                  | 2.88e-19
      1.3 \\times 10^{-27}               | 0
      x(x+1)                             | x^2
      \\frac{3}{4}                       | \\frac{4}{3}
      x^2                                | x^3
      \\text{odd}                        | \\text{even}
      \\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix} | \\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}
      2                                  | 2.0001
      y = 2x + 3                         | y = 2x - 3
      50\\%                              | 50
      5 \\text{ cm}                      | 5 \\text{ m}
      x \\ge 2                           | [2, \\infty)
      """)
  void different(String pred, String ref) {
    assertEquals(false, Equivalence.equal(pred, ref), pred + " vs " + ref);
  }

  /** math-verify's float_rounding (decimal places kept when a decimal is involved) and strict (variable names matter). */
  @Test
  void precisionAndStrictnessFollowTheOptions() {
    Equivalence.Options three = new Equivalence.Options(3, true), four = new Equivalence.Options(4, true);
    assertEquals(true, Equivalence.equal("0.333", "\\frac{1}{3}", three));
    assertEquals(false, Equivalence.equal("0.333", "\\frac{1}{3}", four));
    assertEquals(true, Equivalence.equal("1.333", "\\frac{1}{3} + 1", three));
    assertEquals(false, Equivalence.equal("1.333", "\\frac{1}{3} + 1", four));
    assertEquals(true, Equivalence.equal("(0.6, 2.67]", "(\\frac{3}{5}, \\frac{8}{3}]", new Equivalence.Options(2, true)));
    assertEquals(false, Equivalence.equal("(0.6, 2.67]", "(\\frac{3}{5}, \\frac{8}{3}]", Equivalence.Options.DEFAULT));
    assertEquals(true, Equivalence.equal("\\sqrt{17}", "4.123105625617661", new Equivalence.Options(5, true)));
    assertEquals(false, Equivalence.equal("f(y)", "f(x)"), "strict: variables keep their names");
    assertEquals(true, Equivalence.equal("f(y)", "f(x)", new Equivalence.Options(6, false)), "non-strict: matched by order");
    assertEquals(false, Equivalence.equal("x + 2y", "y + 2x", new Equivalence.Options(6, false)));
    Grader loose = new Grader(Duration.ofSeconds(5), three);
    assertEquals(true, loose.equal("0.333", "\\frac13"));
    assertEquals(false, new Grader().equal("0.333", "\\frac13"));
  }

  @Test
  void garbageIsNeverEqualToAnAnswer() {
    assertFalse(Equivalence.equal("", "0"));
    assertFalse(Equivalence.equal("\\frac{", "1"));
    assertFalse(Equivalence.equal("np.arcsin(10/13)", "\\arcsin(10/13)"));
  }

  @Test
  void aPathologicalComparisonTimesOutAsNotEqual() {
    Grader g = new Grader(Duration.ofMillis(200));
    assertFalse(g.equal("\\binom{4000000000}{2000000000}", "2"), "a billion-step binomial");
    assertEquals(1, g.timeouts());
    String tower = "(".repeat(20000) + "1" + ")".repeat(20000);
    assertFalse(g.equal(tower, "1"), "a stack overflow inside the checker is 'not equal'");
    assertEquals(true, g.equal("\\frac{1}{2}", "0.5"), "the grader keeps working after failures");
  }
}
