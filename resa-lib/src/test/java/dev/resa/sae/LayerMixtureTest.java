package dev.resa.sae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LayerMixtureTest {
  /** n samples of the mixture 0.3 N(2, 0.5) + 0.5 N(10, 1) + 0.2 N(20, 1.5), fixed seed. */
  static double[] threeGaussians(int n, long seed) {
    Random rng = new Random(seed);
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      double u = rng.nextDouble();
      x[i] = u < 0.3 ? 2 + 0.5 * rng.nextGaussian() : u < 0.8 ? 10 + rng.nextGaussian() : 20 + 1.5 * rng.nextGaussian();
    }
    return x;
  }

  @Test
  void recoversThreeWellSeparatedGaussians() {
    LayerMixture.Fit fit = LayerMixture.fit(threeGaussians(6000, 7), 3);
    List<LayerMixture.Component> c = fit.components();
    double[][] truth = {{0.3, 2, 0.5}, {0.5, 10, 1}, {0.2, 20, 1.5}};
    for (int i = 0; i < 3; i++) {
      assertEquals(truth[i][0], c.get(i).weight(), 0.02, "weight " + i);
      assertEquals(truth[i][1], c.get(i).mean(), 0.1, "mean " + i);
      assertEquals(truth[i][2], c.get(i).sd(), 0.1, "sd " + i);
    }
  }

  @Test
  void oneComponentIsTheClosedFormMaximumLikelihoodEstimate() {
    double[] x = threeGaussians(500, 3);
    double mean = Arrays.stream(x).average().orElseThrow();
    double sd = Math.sqrt(Arrays.stream(x).map(v -> (v - mean) * (v - mean)).sum() / x.length);
    LayerMixture.Fit fit = LayerMixture.fit(x, 1);
    assertEquals(mean, fit.components().get(0).mean(), 1e-9);
    assertEquals(sd, fit.components().get(0).sd(), 1e-9);
    assertEquals(1.0, fit.components().get(0).weight(), 1e-12);
    // the entropy of one Gaussian is 0.5 ln(2 pi e sd^2) in nats
    assertEquals(0.5 * Math.log(2 * Math.PI * Math.E * sd * sd), fit.entropy(), 1e-6);
    double ll = Arrays.stream(x).map(v -> Math.log(fit.density(v))).sum() / x.length;
    assertEquals(ll, fit.logLikelihood(), 1e-9);
  }

  @Test
  void finalParametersAreAtLeastAsLikelyAsTheLastEStep() {
    // EM never lowers the likelihood, so the M step after the last E step cannot make it worse.
    double[] x = threeGaussians(2000, 11);
    LayerMixture.Fit fit = LayerMixture.fit(x, 3);
    double ll = Arrays.stream(x).map(v -> Math.log(fit.density(v))).sum() / x.length;
    assertTrue(ll >= fit.logLikelihood() - 1e-9, "final parameters are at least as likely as the last E step's: " + ll);
    double sum = fit.components().stream().mapToDouble(LayerMixture.Component::weight).sum();
    assertEquals(1.0, sum, 1e-9);
  }

  @Test
  void perLayerCountsPutTheMeansAtTheBumps() {
    // three bumps of counts centred on layers 3, 12 and 20 of 24 (the paper's tri-modal shape)
    double[] counts = new double[24];
    for (int l = 0; l < 24; l++) {
      counts[l] = 8 * Math.exp(-0.5 * Math.pow((l - 3) / 1.2, 2)) + 6 * Math.exp(-0.5 * Math.pow((l - 12) / 1.5, 2))
          + 4 * Math.exp(-0.5 * Math.pow((l - 20) / 1.2, 2));
    }
    LayerMixture.Fit fit = LayerMixture.fitLayers(counts, 3);
    assertEquals(3, fit.components().get(0).mean(), 0.3);
    assertEquals(12, fit.components().get(1).mean(), 0.3);
    assertEquals(20, fit.components().get(2).mean(), 0.3);
    // masses 8·1.2 : 6·1.5 : 4·1.2 = 9.6 : 9 : 4.8
    assertEquals(9.6 / 23.4, fit.components().get(0).weight(), 0.03);
    assertEquals(4.8 / 23.4, fit.components().get(2).weight(), 0.03);
  }

  @Test
  void tooFewLayersWithMassIsAClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LayerMixture.fitLayers(new double[] {0, 5, 0, 2}, 3));
    assertTrue(e.getMessage().contains("only 2 layers"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> LayerMixture.fitLayers(new double[] {1, -1, 2}, 1));
  }
}
