package dev.resa.kernel;

import dev.resa.viz.MimeBundle;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;

/**
 * Helpers every cell sees ({@code import static dev.resa.kernel.Notebook.*} is part of the kernel's startup).
 * Values render through resa-lib's renderer registry: Tablesaw tables become HTML tables, Tablesaw figures
 * interactive plotly charts, anything else its {@code toString()}.
 */
public final class Notebook {
  private Notebook() {}

  /** Shows {@code value} now, as its own output, without waiting for the end of the cell. */
  public static void display(Object value) {
    ResaKernel k = ResaKernel.requireCurrent();
    k.display(Displays.render(value, k.getRenderer()));
  }

  /** Shows {@code value} as an output that {@link #updateDisplay} can replace later; returns its display id. */
  public static String display(Object value, String displayId) {
    ResaKernel k = ResaKernel.requireCurrent();
    DisplayData d = new DisplayData(Displays.render(value, k.getRenderer()));
    d.setDisplayId(displayId);
    k.display(d);
    return displayId;
  }

  /** Replaces the output shown with {@link #display(Object, String)} under {@code displayId}. */
  public static void updateDisplay(String displayId, Object value) {
    ResaKernel k = ResaKernel.requireCurrent();
    k.getIO().display.updateDisplay(displayId, new DisplayData(Displays.render(value, k.getRenderer())));
  }

  /** Markdown, rendered as such (a report, a verdict); its plain-text form is the Markdown source. */
  public static MimeBundle markdown(String markdown) {
    return MimeBundle.text(markdown).with("text/markdown", markdown);
  }

  /** Clears this cell's output now (e.g. before redrawing a figure in a loop). */
  public static void clearOutput() {
    ResaKernel.requireCurrent().clearOutput(false);
  }

  /** Clears this cell's output when the next output arrives (no flicker between frames). */
  public static void clearOutput(boolean wait) {
    ResaKernel.requireCurrent().clearOutput(wait);
  }

  /** Raw HTML, rendered as such. */
  public static MimeBundle html(String html) {
    return MimeBundle.html(html, html.replaceAll("<[^>]*>", ""));
  }

  /** True when {@code RESA_CI} is set: notebooks shrink their workloads for continuous integration. */
  public static boolean ci() {
    String v = System.getenv("RESA_CI");
    return v != null && !v.isBlank() && !v.equals("0") && !v.equalsIgnoreCase("false");
  }

  /** {@code ci} when running under CI ({@link #ci()}), else {@code full}: one knob for notebook sizes. */
  public static int scale(int full, int ci) {
    return ci() ? ci : full;
  }
}
