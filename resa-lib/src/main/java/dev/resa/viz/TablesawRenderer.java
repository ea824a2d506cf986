package dev.resa.viz;

import java.util.Locale;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;
import tech.tablesaw.plotly.components.Figure;

/**
 * Notebook display of Tablesaw tables (an HTML head plus the row count) and figures (interactive plotly.js). Floating
 * point cells are shown to {@value #DIGITS} significant digits; the table itself keeps full precision.
 */
public final class TablesawRenderer implements DisplayRenderer {
  /** Rows shown by default; the rest is summarised by the row count. */
  public static final int HEAD_ROWS = 10;

  /** Significant digits of a floating-point cell on display. */
  public static final int DIGITS = 4;

  @Override
  public MimeBundle render(Object value) {
    if (value instanceof Table t) return table(t, HEAD_ROWS);
    if (value instanceof Figure f) return figure(f);
    return null;
  }

  /** The first {@code rows} rows of {@code t} as an HTML table with column types, plus a text version. */
  public static MimeBundle table(Table t, int rows) {
    int shown = Math.min(rows, t.rowCount());
    StringBuilder h = new StringBuilder("<div class=\"resa-table\">\n");
    if (t.name() != null && !t.name().isBlank()) h.append("<b>").append(PlotlyJs.escapeHtml(t.name())).append("</b>\n");
    h.append("<table class=\"dataframe\" border=\"1\"><thead><tr><th></th>");
    for (Column<?> c : t.columns()) {
      h.append("<th>").append(PlotlyJs.escapeHtml(c.name())).append("<br><small>")
          .append(c.type().name().toLowerCase(Locale.ROOT)).append("</small></th>");
    }
    h.append("</tr></thead>\n<tbody>\n");
    for (int r = 0; r < shown; r++) {
      h.append("<tr><th>").append(r).append("</th>");
      for (Column<?> c : t.columns()) {
        String cell = c.isMissing(r) ? "" : cell(c, r);
        String align = isNumeric(c.type()) ? " style=\"text-align:right\"" : "";
        h.append("<td").append(align).append('>').append(PlotlyJs.escapeHtml(cell)).append("</td>");
      }
      h.append("</tr>\n");
    }
    h.append("</tbody></table>\n<p><small>").append(t.rowCount()).append(t.rowCount() == 1 ? " row" : " rows")
        .append(" × ").append(t.columnCount()).append(" columns")
        .append(shown < t.rowCount() ? " (first " + shown + " shown)" : "").append("</small></p>\n</div>");
    String text = rounded(t.first(shown)).print() + "\n" + t.rowCount() + " rows × " + t.columnCount() + " columns";
    return MimeBundle.html(h.toString(), text);
  }

  /** A figure as plotly JSON, HTML (plotly.js inlined once per kernel session) and a text summary. */
  public static MimeBundle figure(Figure f) {
    String json = FigureJson.of(f);
    String title = f.getLayout() == null || f.getLayout().getTitle() == null ? "" : " \"" + f.getLayout().getTitle() + "\"";
    int traces = f.getTraces().length;
    String text = "Plotly figure" + title + ": " + traces + (traces == 1 ? " trace" : " traces");
    return MimeBundle.html(PlotlyJs.notebookFigureHtml(json), text).with(MimeBundle.PLOTLY, json);
  }

  /** A cell as shown: doubles and floats to {@link #DIGITS} significant digits, other types as Tablesaw prints them. */
  static String cell(Column<?> c, int row) {
    if (c.type() == ColumnType.DOUBLE || c.type() == ColumnType.FLOAT) return round(((Number) c.get(row)).doubleValue());
    return c.getString(row);
  }

  /** {@code v} to {@link #DIGITS} significant digits, without trailing zeros ({@code 0.08333 -> "0.08333"}, {@code 2.0 -> "2"}). */
  static String round(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) return Double.toString(v);
    if (v == 0) return "0";
    java.math.BigDecimal d = new java.math.BigDecimal(v).round(new java.math.MathContext(DIGITS)).stripTrailingZeros();
    return Math.abs(v) >= 1e-4 && Math.abs(v) < 1e7 ? d.toPlainString() : d.toString();
  }

  /** A copy of {@code t} whose floating-point columns are replaced by their rounded text (for the plain-text view). */
  private static Table rounded(Table t) {
    Table out = Table.create(t.name());
    for (Column<?> c : t.columns()) {
      if (c.type() != ColumnType.DOUBLE && c.type() != ColumnType.FLOAT) {
        out.addColumns(c.copy());
        continue;
      }
      tech.tablesaw.api.StringColumn s = tech.tablesaw.api.StringColumn.create(c.name());
      for (int r = 0; r < c.size(); r++) s.append(c.isMissing(r) ? "" : cell(c, r));
      out.addColumns(s);
    }
    return out;
  }

  private static boolean isNumeric(ColumnType type) {
    return type == ColumnType.DOUBLE || type == ColumnType.FLOAT || type == ColumnType.INTEGER
        || type == ColumnType.LONG || type == ColumnType.SHORT;
  }
}
