package dev.resa.miniature;

import dev.resa.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One model's held-out scores problem by problem, the unit a paired bootstrap resamples. Rows are in the order of the
 * preset's test set ({@code Stages.testSet}), which is the same for every model and every seed of a preset, so row
 * {@code i} of two models (or two seeds) is the same problem.
 *
 * @param ids problem ids (the arithmetic expression), in test-set order.
 * @param pass1 per problem, the share of its samples at T = 0.6 that were right (in [0, 1]).
 * @param greedy per problem, 1 if the greedy completion was right, else 0.
 * @param think per problem, the share of its samples with at least one worked step (in [0, 1]).
 */
public record ProblemScores(List<String> ids, double[] pass1, double[] greedy, double[] think) {
  /** The CSV header: one row per problem. */
  static final String HEADER = "problem,pass1,greedy,think";

  public ProblemScores {
    ids = List.copyOf(ids);
    if (pass1.length != ids.size() || greedy.length != ids.size() || think.length != ids.size()) {
      throw new IllegalArgumentException("need one score per problem: " + ids.size() + " ids, " + pass1.length + " pass1, "
          + greedy.length + " greedy, " + think.length + " think");
    }
  }

  /** Number of problems. */
  public int size() {
    return ids.size();
  }

  /** Writes {@code problem,pass1,greedy,think} rows (ids are expressions without commas or quotes). */
  public void write(Path file) throws IOException {
    StringBuilder sb = new StringBuilder(HEADER).append('\n');
    for (int i = 0; i < size(); i++) {
      String id = ids.get(i);
      if (id.contains(",") || id.contains("\"") || id.contains("\n")) throw new IllegalArgumentException("problem id not CSV-safe: " + id);
      sb.append(id).append(',').append(num(pass1[i])).append(',').append(num(greedy[i])).append(',').append(num(think[i])).append('\n');
    }
    Files.createDirectories(file.getParent());
    AtomicFiles.writeString(file, sb.toString());
  }

  private static String num(double v) {
    return String.format(Locale.ROOT, "%.6g", v);
  }

  /** Reads a file written by {@link #write}. */
  public static ProblemScores read(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file);
    if (lines.isEmpty() || !lines.get(0).equals(HEADER)) throw new IOException(file + ": expected header '" + HEADER + "'");
    List<String> ids = new ArrayList<>();
    int n = lines.size() - 1;
    double[] p = new double[n], g = new double[n], t = new double[n];
    for (int i = 0; i < n; i++) {
      String[] f = lines.get(i + 1).split(",", -1);
      if (f.length != 4) throw new IOException(file + ": line " + (i + 2) + " has " + f.length + " fields, expected 4");
      ids.add(f[0]);
      p[i] = Double.parseDouble(f[1]);
      g[i] = Double.parseDouble(f[2]);
      t[i] = Double.parseDouble(f[3]);
    }
    return new ProblemScores(ids, p, g, t);
  }
}
