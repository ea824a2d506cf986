package dev.resa.tuning;

import dev.resa.io.AtomicFiles;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

/** One row per optimizer step (step, epoch, lr, grad_norm, seconds, then the trainer's metrics), as a Tablesaw table. */
final class TrainingLog {
  private final Table table;
  private final String[] metrics;

  TrainingLog(String name, String... metrics) {
    this.metrics = metrics;
    table = Table.create(name, IntColumn.create("step"), IntColumn.create("epoch"), DoubleColumn.create("lr"),
        DoubleColumn.create("grad_norm"), DoubleColumn.create("seconds"));
    for (String m : metrics) table.addColumns(DoubleColumn.create(m));
  }

  void add(long step, int epoch, double lr, double gradNorm, double seconds, double... values) {
    if (values.length != metrics.length) throw new IllegalArgumentException("expected " + metrics.length + " metrics");
    table.intColumn("step").append((int) step);
    table.intColumn("epoch").append(epoch);
    table.doubleColumn("lr").append(lr);
    table.doubleColumn("grad_norm").append(gradNorm);
    table.doubleColumn("seconds").append(seconds);
    for (int i = 0; i < values.length; i++) table.doubleColumn(metrics[i]).append(values[i]);
  }

  Table table() {
    return table;
  }

  /** Writes the table as CSV atomically. */
  void save(Path csv) throws IOException {
    AtomicFiles.write(csv, out -> {
      Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
      table.write().csv(w);
      w.flush();
    });
  }
}
