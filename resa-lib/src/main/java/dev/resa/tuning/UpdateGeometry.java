package dev.resa.tuning;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.resa.model.Weights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * Does SAE-Tuning move the weights the way RL did? Compares two weight updates of the same base, for example
 * {@code ΔW_tuned = W(SAE-tuned) - W(base)} and {@code ΔW_rl = W(source) - W(base)}, matrix by matrix:
 *
 * <ul>
 *   <li>the cosine between the flattened updates (direction in weight space, sign included);
 *   <li>the cosines of the principal angles between their top-{@code r} left singular subspaces (which output
 *       directions each update writes to, sign-free): 1 = the same subspace, about {@code sqrt(r / rows)} on average
 *       for unrelated random subspaces.
 * </ul>
 *
 * A random update of the same rank gives the chance level of both numbers, so a claim reads as "above chance".
 * Everything is computed in double precision on the JVM: the matrices are at most a few thousand on a side and the
 * subspaces have LoRA's rank, so the small r×r eigenproblem is solved by Jacobi rotations rather than a library SVD.
 */
public final class UpdateGeometry {
  private UpdateGeometry() {}

  /**
   * One matrix's comparison.
   *
   * @param name the weight's name ({@code layers.3.mlp.up_proj.weight}).
   * @param cosine cosine between the two flattened updates.
   * @param principalCosines cosines of the principal angles, largest first ({@code rank} of them).
   * @param normA Frobenius norm of the first update.
   * @param normB Frobenius norm of the second update.
   */
  public record Comparison(String name, double cosine, double[] principalCosines, double normA, double normB) {
    /** Mean of the principal cosines: 1 when the subspaces coincide. */
    public double subspaceOverlap() {
      return Arrays.stream(principalCosines).average().orElse(Double.NaN);
    }
  }

  /**
   * Compares {@code a - base} with {@code b - base} for every 2-D weight whose name {@code include} accepts (for
   * example the seven LoRA projections), at subspace rank {@code rank}.
   */
  public static List<Comparison> compare(Weights base, Weights a, Weights b, Predicate<String> include, int rank) {
    List<Comparison> out = new ArrayList<>();
    for (var e : base.asMap().entrySet()) {
      String name = e.getKey();
      if (e.getValue().getShape().dimension() != 2 || !include.test(name)) continue;
      if (!a.contains(name) || !b.contains(name)) throw new IllegalArgumentException("weight '" + name + "' is missing from one model");
      double[][] w = matrix(e.getValue());
      double[][] da = minus(matrix(a.get(name)), w, name);
      double[][] db = minus(matrix(b.get(name)), w, name);
      out.add(compare(name, da, db, rank));
    }
    return out;
  }

  /** Compares two updates of one matrix. */
  public static Comparison compare(String name, double[][] da, double[][] db, int rank) {
    double[] pc = principalCosines(topLeftSubspace(da, rank, 1), topLeftSubspace(db, rank, 2));
    return new Comparison(name, cosine(da, db), pc, norm(da), norm(db));
  }

  /** A random update of the given shape and rank (product of two Gaussian factors): the chance level. */
  public static double[][] randomUpdate(int rows, int cols, int rank, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[][] left = gaussian(rows, rank, rng);
    double[][] right = gaussian(rank, cols, rng);
    double[][] out = new double[rows][cols];
    for (int i = 0; i < rows; i++) {
      for (int k = 0; k < rank; k++) {
        double l = left[i][k];
        for (int j = 0; j < cols; j++) out[i][j] += l * right[k][j];
      }
    }
    return out;
  }

  /** Cosine between two matrices read as vectors. */
  public static double cosine(double[][] a, double[][] b) {
    double dot = 0;
    for (int i = 0; i < a.length; i++) for (int j = 0; j < a[i].length; j++) dot += a[i][j] * b[i][j];
    return dot / (norm(a) * norm(b));
  }

  /**
   * An orthonormal basis [rows, rank] of the top-{@code rank} left singular subspace of {@code m}, by subspace
   * iteration on {@code m mᵀ} from a seeded random start (exact after one pass when m has rank ≤ rank; 8 passes
   * otherwise, enough for the well-separated spectra of low-rank updates).
   */
  static double[][] topLeftSubspace(double[][] m, int rank, long seed) {
    int rows = m.length, cols = m[0].length;
    if (rank > Math.min(rows, cols)) throw new IllegalArgumentException("rank " + rank + " exceeds the matrix's " + rows + "x" + cols);
    double[][] q = orthonormalColumns(gaussian(rows, rank, new SplittableRandom(seed)));
    for (int pass = 0; pass < 8; pass++) {
      double[][] t = new double[cols][rank]; // mᵀ q   [cols, r]
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          double v = m[i][j];
          if (v == 0) continue;
          for (int k = 0; k < rank; k++) t[j][k] += v * q[i][k];
        }
      }
      double[][] next = new double[rows][rank]; // m mᵀ q   [rows, r]
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          double v = m[i][j];
          if (v == 0) continue;
          for (int k = 0; k < rank; k++) next[i][k] += v * t[j][k];
        }
      }
      q = orthonormalColumns(next);
    }
    return q;
  }

  /**
   * Cosines of the principal angles between the column spaces of two orthonormal bases: the singular values of
   * {@code q1ᵀ q2}, largest first.
   */
  static double[] principalCosines(double[][] q1, double[][] q2) {
    int r1 = q1[0].length, r2 = q2[0].length;
    double[][] c = new double[r1][r2];
    for (int i = 0; i < q1.length; i++) for (int a = 0; a < r1; a++) for (int b = 0; b < r2; b++) c[a][b] += q1[i][a] * q2[i][b];
    double[][] ctc = new double[r2][r2];
    for (int a = 0; a < r1; a++) for (int i = 0; i < r2; i++) for (int j = 0; j < r2; j++) ctc[i][j] += c[a][i] * c[a][j];
    double[] eig = symmetricEigenvalues(ctc);
    double[] out = new double[Math.min(r1, r2)];
    for (int i = 0; i < out.length; i++) out[i] = Math.sqrt(Math.max(0, Math.min(1, eig[eig.length - 1 - i])));
    return out;
  }

  /** Eigenvalues of a small symmetric matrix, ascending, by cyclic Jacobi rotations. */
  static double[] symmetricEigenvalues(double[][] s) {
    int n = s.length;
    double[][] a = new double[n][];
    for (int i = 0; i < n; i++) a[i] = s[i].clone();
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0;
      for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) off += a[i][j] * a[i][j];
      if (off < 1e-30) break;
      for (int p = 0; p < n; p++) {
        for (int q = p + 1; q < n; q++) {
          if (Math.abs(a[p][q]) < 1e-300) continue;
          double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) t = 1;
          double cs = 1 / Math.sqrt(t * t + 1), sn = t * cs;
          for (int k = 0; k < n; k++) { // rotate columns p, q
            double akp = a[k][p], akq = a[k][q];
            a[k][p] = cs * akp - sn * akq;
            a[k][q] = sn * akp + cs * akq;
          }
          for (int k = 0; k < n; k++) { // rotate rows p, q
            double apk = a[p][k], aqk = a[q][k];
            a[p][k] = cs * apk - sn * aqk;
            a[q][k] = sn * apk + cs * aqk;
          }
        }
      }
    }
    double[] d = new double[n];
    for (int i = 0; i < n; i++) d[i] = a[i][i];
    Arrays.sort(d);
    return d;
  }

  /** Modified Gram-Schmidt on the columns, twice for stability; a column that vanishes is replaced by zeros. */
  static double[][] orthonormalColumns(double[][] m) {
    int rows = m.length, cols = m[0].length;
    double[][] q = new double[rows][];
    for (int i = 0; i < rows; i++) q[i] = m[i].clone();
    for (int twice = 0; twice < 2; twice++) {
      for (int c = 0; c < cols; c++) {
        for (int p = 0; p < c; p++) {
          double dot = 0;
          for (int i = 0; i < rows; i++) dot += q[i][p] * q[i][c];
          for (int i = 0; i < rows; i++) q[i][c] -= dot * q[i][p];
        }
        double n = 0;
        for (int i = 0; i < rows; i++) n += q[i][c] * q[i][c];
        n = Math.sqrt(n);
        for (int i = 0; i < rows; i++) q[i][c] = n > 1e-300 ? q[i][c] / n : 0;
      }
    }
    return q;
  }

  private static double norm(double[][] a) {
    double s = 0;
    for (double[] row : a) for (double v : row) s += v * v;
    return Math.sqrt(s);
  }

  private static double[][] gaussian(int rows, int cols, SplittableRandom rng) {
    double[][] g = new double[rows][cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        // Box-Muller: SplittableRandom has no nextGaussian on JDK 17.
        double u = 1 - rng.nextDouble(), v = rng.nextDouble();
        g[i][j] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      }
    }
    return g;
  }

  private static double[][] matrix(NDArray a) {
    long[] s = a.getShape().getShape();
    float[] f;
    if (a.getDataType() == DataType.FLOAT32) {
      f = a.toFloatArray();
    } else {
      try (NDArray wide = a.toType(DataType.FLOAT32, true)) {
        f = wide.toFloatArray();
      }
    }
    double[][] m = new double[(int) s[0]][(int) s[1]];
    for (int i = 0; i < s[0]; i++) for (int j = 0; j < s[1]; j++) m[i][j] = f[(int) (i * s[1] + j)];
    return m;
  }

  private static double[][] minus(double[][] a, double[][] b, String name) {
    if (a.length != b.length || a[0].length != b[0].length) {
      throw new IllegalArgumentException("weight '" + name + "' is " + a.length + "x" + a[0].length + " in one model and "
          + b.length + "x" + b[0].length + " in the other");
    }
    double[][] d = new double[a.length][a[0].length];
    for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) d[i][j] = a[i][j] - b[i][j];
    return d;
  }
}
