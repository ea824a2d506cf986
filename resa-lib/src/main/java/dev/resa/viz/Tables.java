package dev.resa.viz;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

/** Small helpers for showing Tablesaw tables in notebooks. */
public final class Tables {
  private Tables() {}

  /** A copy of {@code t} with every double column rounded half-up to {@code digits} decimals (missing and infinite values stay as they are). */
  public static Table rounded(Table t, int digits) {
    if (digits < 0) throw new IllegalArgumentException("digits must be >= 0, got " + digits);
    double scale = Math.pow(10, digits);
    Table out = t.copy();
    for (Column<?> c : out.columns()) {
      if (c instanceof DoubleColumn d) {
        for (int i = 0; i < d.size(); i++) {
          if (!d.isMissing(i) && Double.isFinite(d.getDouble(i))) d.set(i, Math.round(d.getDouble(i) * scale) / scale);
        }
      }
    }
    return out;
  }
}
