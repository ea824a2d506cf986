package dev.resa.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class JavadocTest {
  private static final String RAW = "Returns the greater of two {@code int} values. See {@link Math#min(int, int)}.\n"
      + "<p>If the arguments have the same value, the result is that same value.\n\n"
      + "@param a   an argument.\n@param b   another argument.\n@return  the larger of {@code a} and {@code b}.\n";

  @Test
  void summaryIsTheDescriptionInMarkdownAndPlainText() {
    assertEquals("```java\nint Math.max(int a, int b)\n```\n\nReturns the greater of two `int` values. See "
            + "`Math.min(int, int)`.\n\nIf the arguments have the same value, the result is that same value.\n",
        Javadoc.markdown("int Math.max(int a, int b)", RAW, false));
    assertEquals("int Math.max(int a, int b)\n\nReturns the greater of two int values. See Math.min(int, int).\n\n"
            + "If the arguments have the same value, the result is that same value.",
        Javadoc.plain("int Math.max(int a, int b)", RAW, false));
  }

  @Test
  void detailAddsTheBlockTags() {
    String md = Javadoc.markdown("int Math.max(int a, int b)", RAW, true);
    assertEquals(true, md.endsWith("- **@param** a   an argument.\n- **@param** b   another argument.\n"
        + "- **@return** the larger of `a` and `b`.\n"), md);
  }

  @Test
  void noJavadocShowsTheSignatureOnly() {
    assertEquals("void f()", Javadoc.plain("void f()", null, true));
  }
}
