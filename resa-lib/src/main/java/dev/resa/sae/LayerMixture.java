package dev.resa.sae;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Figure 3's fit (resa-algorithm §6.7): a one-dimensional Gaussian mixture over layer positions, weighted by a
 * per-layer quantity such as the number of reasoning features found at each layer (the paper reports means at layers
 * 4.9 / 14.5 / 22.7 with weights 41 / 37 / 22 % for R1-Distill's counts).
 *
 * <p>Fitted by expectation-maximisation. This is our own 1-D EM: commons-math3's
 * {@code MultivariateNormalMixtureExpectationMaximization} rejects one-column data (it needs at least two dimensions)
 * and Smile's {@code GaussianMixture} is GPL-3, so neither fits a library meant for reuse.
 */
public final class LayerMixture {
  private LayerMixture() {}

  /** Samples spread over the layers by {@link #fitLayers}; the fit does not depend on the number, only the shape. */
  static final int LAYER_SAMPLES = 2000;

  /** Smallest standard deviation a component may shrink to (a tenth of a layer), so a component never collapses. */
  static final double MIN_SD = 0.1;

  /** One Gaussian of the mixture: its share of the mass, its mean and standard deviation (in layers). */
  public record Component(double weight, double mean, double sd) {
    double density(double x) {
      double z = (x - mean) / sd;
      return weight * Math.exp(-0.5 * z * z) / (sd * Math.sqrt(2 * Math.PI));
    }
  }

  /**
   * A fitted mixture, components sorted by mean.
   *
   * @param components the Gaussians, by increasing mean.
   * @param logLikelihood mean log-likelihood per sample at the end of EM.
   * @param iterations EM iterations run.
   */
  public record Fit(List<Component> components, double logLikelihood, int iterations) {
    /** The mixture's probability density at {@code x}. */
    public double density(double x) {
      double p = 0;
      for (Component c : components) p += c.density(x);
      return p;
    }

    /**
     * Differential entropy {@code -∫ p ln p} in nats, by the midpoint rule over mean ± 10 sd of every component
     * (the paper reports 3.194 for R1-Distill's feature-count mixture, presumably this quantity).
     */
    public double entropy() {
      double lo = Double.POSITIVE_INFINITY;
      double hi = Double.NEGATIVE_INFINITY;
      for (Component c : components) {
        lo = Math.min(lo, c.mean() - 10 * c.sd());
        hi = Math.max(hi, c.mean() + 10 * c.sd());
      }
      int n = 200_000;
      double dx = (hi - lo) / n;
      double h = 0;
      for (int i = 0; i < n; i++) {
        double p = density(lo + (i + 0.5) * dx);
        if (p > 0) h -= p * Math.log(p) * dx;
      }
      return h;
    }
  }

  /**
   * Fits {@code k} components to per-layer weights: layer {@code i} (0-indexed, the hook point {@code layers.i})
   * holds mass {@code perLayer[i]}, spread evenly over its unit bin {@code [i - 0.5, i + 0.5)} (a count belongs to a
   * layer, not to a point). Needs a positive total and at least {@code k} layers with mass.
   */
  public static Fit fitLayers(double[] perLayer, int k) {
    double total = 0;
    int nonZero = 0;
    for (int i = 0; i < perLayer.length; i++) {
      if (!(perLayer[i] >= 0) || Double.isInfinite(perLayer[i])) {
        throw new IllegalArgumentException("perLayer[" + i + "] = " + perLayer[i] + "; weights must be finite and >= 0");
      }
      total += perLayer[i];
      if (perLayer[i] > 0) nonZero++;
    }
    if (nonZero < k) {
      throw new IllegalArgumentException("only " + nonZero + " layers have mass; a " + k + "-component fit needs at least " + k);
    }
    List<Double> xs = new ArrayList<>();
    for (int i = 0; i < perLayer.length; i++) {
      int n = (int) Math.round(perLayer[i] / total * LAYER_SAMPLES);
      for (int j = 0; j < n; j++) xs.add(i - 0.5 + (j + 0.5) / n);
    }
    return fit(xs.stream().mapToDouble(Double::doubleValue).toArray(), k);
  }

  /** Fits {@code k} components to samples by EM (at most 1000 iterations, until the mean log-likelihood gains < 1e-10). */
  public static Fit fit(double[] x, int k) {
    if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
    if (x.length < k) throw new IllegalArgumentException(x.length + " samples cannot support " + k + " components");
    int n = x.length;
    // Start: equal weights, means at the k quantile midpoints, every sd the overall sd (deterministic, no seed).
    double[] sorted = x.clone();
    Arrays.sort(sorted);
    double mu0 = Arrays.stream(x).average().orElseThrow();
    double sd0 = Math.max(MIN_SD, Math.sqrt(Arrays.stream(x).map(v -> (v - mu0) * (v - mu0)).sum() / n));
    double[] w = new double[k];
    double[] mu = new double[k];
    double[] sd = new double[k];
    for (int c = 0; c < k; c++) {
      w[c] = 1.0 / k;
      mu[c] = sorted[(int) ((c + 0.5) * n / k)];
      sd[c] = sd0;
    }
    double[][] r = new double[n][k]; // responsibilities [N, k]
    double ll = Double.NEGATIVE_INFINITY;
    int it = 0;
    while (it < 1000) {
      it++;
      // E step: r[i][c] ∝ w_c N(x_i | mu_c, sd_c), normalised in log space against underflow far from every mean.
      double next = 0;
      for (int i = 0; i < n; i++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < k; c++) {
          double z = (x[i] - mu[c]) / sd[c];
          r[i][c] = Math.log(w[c]) - Math.log(sd[c]) - 0.5 * Math.log(2 * Math.PI) - 0.5 * z * z;
          max = Math.max(max, r[i][c]);
        }
        double sum = 0;
        for (int c = 0; c < k; c++) sum += r[i][c] = Math.exp(r[i][c] - max);
        for (int c = 0; c < k; c++) r[i][c] /= sum;
        next += (max + Math.log(sum)) / n;
      }
      // M step: weighted share, mean and (population) sd of each component.
      for (int c = 0; c < k; c++) {
        double nc = 0;
        double s = 0;
        for (int i = 0; i < n; i++) {
          nc += r[i][c];
          s += r[i][c] * x[i];
        }
        mu[c] = s / nc;
        double v = 0;
        for (int i = 0; i < n; i++) v += r[i][c] * (x[i] - mu[c]) * (x[i] - mu[c]);
        sd[c] = Math.max(MIN_SD, Math.sqrt(v / nc));
        w[c] = nc / n;
      }
      boolean converged = next - ll < 1e-10;
      ll = next;
      if (converged) break;
    }
    List<Component> comps = new ArrayList<>();
    for (int c = 0; c < k; c++) comps.add(new Component(w[c], mu[c], sd[c]));
    comps.sort(Comparator.comparingDouble(Component::mean));
    return new Fit(List.copyOf(comps), ll, it);
  }
}
