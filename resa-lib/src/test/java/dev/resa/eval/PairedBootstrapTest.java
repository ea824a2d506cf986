package dev.resa.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resa.eval.PairedBootstrap.Config;
import dev.resa.eval.PairedBootstrap.Interval;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PairedBootstrapTest {
  private static final Config FAST = Config.defaults().withResamples(2_000);

  @Test
  void quantileIsNumpysLinearInterpolation() {
    // numpy.quantile([1, 2, 3, 4], 0.25) = 1.75 and 0.9 -> 3.7 (worked by hand: pos = q * (n - 1)).
    double[] v = {1, 2, 3, 4};
    assertEquals(1.75, PairedBootstrap.quantile(v, 0.25), 1e-12);
    assertEquals(3.7, PairedBootstrap.quantile(v, 0.9), 1e-12);
    assertEquals(1.0, PairedBootstrap.quantile(v, 0.0), 1e-12);
    assertEquals(4.0, PairedBootstrap.quantile(v, 1.0), 1e-12);
  }

  @Test
  void aConstantDifferenceHasAZeroWidthInterval() {
    Random r = new Random(1);
    double[][] b = new double[1][50];
    double[][] a = new double[1][50];
    for (int p = 0; p < 50; p++) {
      b[0][p] = r.nextDouble();
      a[0][p] = b[0][p] + 0.25;
    }
    Interval d = PairedBootstrap.difference(a, b, FAST);
    assertEquals(0.25, d.estimate(), 1e-12);
    assertEquals(0.25, d.lo(), 1e-12);
    assertEquals(0.25, d.hi(), 1e-12);
  }

  @Test
  void largeSampleIntervalMatchesTheNormalApproximation() {
    int n = 2_000;
    Random r = new Random(7);
    double[][] a = new double[1][n];
    double[][] b = new double[1][n];
    double sum = 0, sumSq = 0;
    for (int p = 0; p < n; p++) {
      a[0][p] = r.nextBoolean() ? 1 : 0;
      b[0][p] = r.nextDouble() < 0.4 ? 1 : 0;
      double d = a[0][p] - b[0][p];
      sum += d;
      sumSq += d * d;
    }
    double mean = sum / n;
    double sd = Math.sqrt((sumSq - n * mean * mean) / (n - 1));
    double half = 1.959964 * sd / Math.sqrt(n);
    Interval d = PairedBootstrap.difference(a, b, Config.defaults());
    assertEquals(mean, d.estimate(), 1e-12);
    assertEquals(mean - half, d.lo(), 0.1 * half, "lower bound vs mean - 1.96 sd / sqrt(n)");
    assertEquals(mean + half, d.hi(), 0.1 * half, "upper bound vs mean + 1.96 sd / sqrt(n)");
  }

  @Test
  void pairingRemovesSharedProblemDifficulty() {
    // Problems differ a lot in difficulty; a beats b by a small, consistent margin on each one.
    int n = 200;
    Random r = new Random(3);
    double[][] a = new double[1][n];
    double[][] b = new double[1][n];
    double varA = 0, varB = 0;
    for (int p = 0; p < n; p++) {
      double difficulty = r.nextDouble();
      b[0][p] = difficulty;
      a[0][p] = Math.min(1, difficulty + 0.03 + 0.01 * r.nextGaussian());
    }
    for (int p = 0; p < n; p++) {
      varA += Math.pow(a[0][p] - 0.5, 2) / n;
      varB += Math.pow(b[0][p] - 0.5, 2) / n;
    }
    double unpairedHalf = 1.96 * Math.sqrt((varA + varB) / n); // what two independent samples would give
    Interval d = PairedBootstrap.difference(a, b, FAST);
    assertTrue(d.above(0), "the paired interval must exclude 0: " + d.signed(4));
    assertTrue((d.hi() - d.lo()) / 2 < unpairedHalf / 5, "paired half-width " + (d.hi() - d.lo()) / 2 + " vs unpaired " + unpairedHalf);
  }

  @Test
  void coversTheTrueDifferenceAboutNinetyFivePercentOfTheTime() {
    // 400 simulated evaluations of 100 problems, 4 samples each, true Pass@1 0.55 vs 0.45.
    Random r = new Random(11);
    int covered = 0, trials = 400;
    for (int t = 0; t < trials; t++) {
      double[][] a = new double[1][100];
      double[][] b = new double[1][100];
      for (int p = 0; p < 100; p++) {
        for (int s = 0; s < 4; s++) {
          a[0][p] += (r.nextDouble() < 0.55 ? 1 : 0) / 4.0;
          b[0][p] += (r.nextDouble() < 0.45 ? 1 : 0) / 4.0;
        }
      }
      Interval d = PairedBootstrap.difference(a, b, Config.defaults().withResamples(1_000).withSeed(t));
      if (d.lo() <= 0.10 && 0.10 <= d.hi()) covered++;
    }
    double coverage = covered / (double) trials;
    assertTrue(coverage > 0.91 && coverage < 0.98, "coverage " + coverage);
  }

  @Test
  void seedsCarryRunToRunVariance() {
    // Every seed scores every problem alike, but the seeds disagree with each other.
    double[] offsets = {0.0, 0.2, -0.1};
    double[][] a = new double[3][30];
    double[][] b = new double[3][30];
    for (int s = 0; s < 3; s++) {
      for (int p = 0; p < 30; p++) {
        b[s][p] = 0.5;
        a[s][p] = 0.6 + offsets[s];
      }
    }
    Interval oneSeed = PairedBootstrap.difference(new double[][] {a[0]}, new double[][] {b[0]}, FAST);
    Interval pooled = PairedBootstrap.difference(a, b, FAST);
    assertEquals(0.0, oneSeed.hi() - oneSeed.lo(), 1e-12, "one seed, no problem variance: zero width");
    assertEquals(0.1 + 0.1 / 3, pooled.estimate(), 1e-12);
    assertEquals(0.0, pooled.lo(), 1e-9, "3.7 % of draws take the -0.1 seed three times: the 2.5 % quantile");
    assertEquals(0.3, pooled.hi(), 1e-9, "3.7 % of draws take the +0.2 seed three times: the 97.5 % quantile");
  }

  @Test
  void recoveredGainIsTheShareOfTheSourcesGain() {
    int n = 400;
    double[][] base = new double[1][n];
    double[][] source = new double[1][n];
    double[][] tuned = new double[1][n];
    for (int p = 0; p < n; p++) {
      source[0][p] = 1;
      tuned[0][p] = p % 5 == 0 ? 0 : 1; // right on 80 % of the problems base misses
    }
    Interval g = PairedBootstrap.recoveredGain(base, source, tuned, FAST);
    assertEquals(0.8, g.estimate(), 1e-12);
    assertTrue(g.lo() > 0.74 && g.hi() < 0.86, g.plain(3));
  }

  @Test
  void recoveredGainIsUnboundedWithoutAnRlGain() {
    Random r = new Random(5);
    double[][] base = new double[1][100];
    double[][] source = new double[1][100];
    double[][] tuned = new double[1][100];
    for (int p = 0; p < 100; p++) {
      base[0][p] = r.nextBoolean() ? 1 : 0;
      source[0][p] = r.nextBoolean() ? 1 : 0;
      tuned[0][p] = r.nextBoolean() ? 1 : 0;
    }
    Interval g = PairedBootstrap.recoveredGain(base, base, tuned, FAST);
    assertTrue(Double.isNaN(g.estimate()));
    assertEquals(Double.NEGATIVE_INFINITY, g.lo());
    assertEquals(Double.POSITIVE_INFINITY, g.hi());
  }

  @Test
  void recoveredCountsItsUndefinedReplicates() {
    // base 0 on every problem; source 1 on problem 0 only; tuned equal to source. A replicate is undefined exactly when
    // it never draws problem 0: probability (1 - 1/n)^n, about 0.349 for n = 20, so ~698 of 2000 replicates.
    int n = 20;
    double[][] base = new double[1][n];
    double[][] source = new double[1][n];
    source[0][0] = 1;
    PairedBootstrap.Ratio r = PairedBootstrap.recovered(base, source, source, FAST);
    double expected = Math.pow(1 - 1.0 / n, n) * FAST.resamples();
    assertEquals(expected, r.undefined(), 5 * Math.sqrt(expected), "undefined replicates ~ binomial(2000, 0.349)");
    assertEquals(FAST.resamples(), r.resamples());
    assertEquals(1.0, r.interval().estimate(), 1e-12, "tuned = source recovers all of the gain");
    assertTrue(Double.isInfinite(r.interval().lo()), "undefined replicates outnumber a tail: unbounded");
    // with the gain on every problem, no replicate is undefined
    double[][] all = new double[1][n];
    java.util.Arrays.fill(all[0], 1);
    assertEquals(0, PairedBootstrap.recovered(base, all, all, FAST).undefined());
  }

  @Test
  void unpairedShapesAreRejectedWithTheCounts() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> PairedBootstrap.difference(new double[1][10], new double[1][9], FAST));
    assertTrue(e.getMessage().contains("9 problems, expected 10"), e.getMessage());
    var e2 = assertThrows(IllegalArgumentException.class,
        () -> PairedBootstrap.difference(new double[2][10], new double[1][10], FAST));
    assertTrue(e2.getMessage().contains("1 seeds, expected 2"), e2.getMessage());
  }
}
