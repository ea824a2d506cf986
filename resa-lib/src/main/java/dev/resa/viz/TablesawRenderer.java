package dev.resa.viz;

import java.util.Locale;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;
import tech.tablesaw.plotly.components.Figure;

/** Notebook display of Tablesaw tables (an HTML head plus the row count) and figures (interactive plotly.js). */
public final class TablesawRenderer implements DisplayRenderer {
  /** Rows shown by default; the rest is summarised by the row count. */
  public static final int HEAD_ROWS = 10;

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
        String cell = c.isMissing(r) ? "" : c.getString(r);
        String align = isNumeric(c.type()) ? " style=\"text-align:right\"" : "";
        h.append("<td").append(align).append('>').append(PlotlyJs.escapeHtml(cell)).append("</td>");
      }
      h.append("</tr>\n");
    }
    h.append("</tbody></table>\n<p><small>").append(t.rowCount()).append(t.rowCount() == 1 ? " row" : " rows")
        .append(" × ").append(t.columnCount()).append(" columns")
        .append(shown < t.rowCount() ? " (first " + shown + " shown)" : "").append("</small></p>\n</div>");
    String text = t.first(shown).print() + "\n" + t.rowCount() + " rows × " + t.columnCount() + " columns";
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

  private static boolean isNumeric(ColumnType type) {
    return type == ColumnType.DOUBLE || type == ColumnType.FLOAT || type == ColumnType.INTEGER
        || type == ColumnType.LONG || type == ColumnType.SHORT;
  }
}
