package dev.resa.train;

import dev.resa.io.AtomicFiles;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.io.csv.CsvReadOptions;
import tech.tablesaw.io.csv.CsvWriteOptions;

/**
 * A training log as a Tablesaw table: one row per logged step with {@code step}, {@code loss}, {@code lr},
 * {@code tokens_per_s}, plus any extra metrics (a column is created the first time a metric appears; earlier rows
 * get a missing value). Plot it with Tablesaw or save it as CSV.
 */
public final class TrainLog {
  public static final String STEP = "step", LOSS = "loss", LR = "lr", TOKENS_PER_S = "tokens_per_s";

  private final Table table;

  public TrainLog(String name) {
    this(Table.create(name, IntColumn.create(STEP), DoubleColumn.create(LOSS), DoubleColumn.create(LR),
        DoubleColumn.create(TOKENS_PER_S)));
  }

  private TrainLog(Table table) {
    this.table = table;
  }

  /** Appends a row. {@code step} is 1-based (the number of updates done); {@code extra} may be empty. */
  public void add(int step, double loss, double lr, double tokensPerSecond, Map<String, Double> extra) {
    for (String metric : extra.keySet()) {
      if (!table.containsColumn(metric)) {
        DoubleColumn c = DoubleColumn.create(metric);
        for (int i = 0; i < table.rowCount(); i++) c.appendMissing();
        table.addColumns(c);
      }
    }
    table.intColumn(STEP).append(step);
    table.doubleColumn(LOSS).append(loss);
    table.doubleColumn(LR).append(lr);
    table.doubleColumn(TOKENS_PER_S).append(tokensPerSecond);
    for (String name : table.columnNames()) {
      if (name.equals(STEP) || name.equals(LOSS) || name.equals(LR) || name.equals(TOKENS_PER_S)) continue;
      DoubleColumn c = table.doubleColumn(name);
      Double v = extra.get(name);
      if (v == null) c.appendMissing();
      else c.append(v);
    }
  }

  /** The underlying table (live: rows added later appear in it). */
  public Table table() {
    return table;
  }

  public int rows() {
    return table.rowCount();
  }

  /** The loss column as an array, in row order. */
  public double[] losses() {
    return table.doubleColumn(LOSS).asDoubleArray();
  }

  /** Drops rows whose step is greater than {@code step} (used when resuming from an earlier checkpoint). */
  public void truncateAfter(int step) {
    IntColumn s = table.intColumn(STEP);
    int keep = 0;
    while (keep < s.size() && s.getInt(keep) <= step) keep++;
    if (keep < table.rowCount()) {
      Table head = table.first(keep);
      table.clear();
      table.append(head);
    }
  }

  /** Writes the table as CSV, atomically (temp file + rename). */
  public void save(Path csv) throws IOException {
    AtomicFiles.writeString(csv, toCsv());
  }

  /** The table as CSV text (a header line, then one line per row). */
  public String toCsv() {
    StringWriter w = new StringWriter();
    table.write().csv(CsvWriteOptions.builder(w).build());
    return w.toString();
  }

  /** Reads a log written by {@link #save}; errors name the file. */
  public static TrainLog load(Path csv) throws IOException {
    if (!Files.isRegularFile(csv)) throw new IOException("training log not found: " + csv);
    return fromCsv(Files.readString(csv), csv.toString());
  }

  /** Parses CSV text written by {@link #toCsv}; {@code source} names it in errors. */
  public static TrainLog fromCsv(String text, String source) throws IOException {
    Table t;
    try {
      t = Table.read().usingOptions(CsvReadOptions.builder(new StringReader(text)).tableName("train")
          .columnTypes(name -> name.equals(STEP) ? ColumnType.INTEGER : ColumnType.DOUBLE));
    } catch (RuntimeException e) {
      throw new IOException(source + ": not a training log CSV: " + e.getMessage(), e);
    }
    for (String required : new String[] {STEP, LOSS, LR, TOKENS_PER_S}) {
      if (!t.containsColumn(required)) throw new IOException(source + ": missing column '" + required + "'");
    }
    return new TrainLog(t);
  }

  @Override
  public String toString() {
    return table.print();
  }
}
