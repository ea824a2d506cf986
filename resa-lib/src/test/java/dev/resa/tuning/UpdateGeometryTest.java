package dev.resa.tuning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class UpdateGeometryTest {
  @Test
  void jacobiEigenvaluesOfKnownMatrices() {
    assertArrayEquals(new double[] {1, 3}, UpdateGeometry.symmetricEigenvalues(new double[][] {{2, 1}, {1, 2}}), 1e-12);
    // [[4,1,0],[1,3,1],[0,1,2]]: characteristic polynomial roots 3 - sqrt(3), 3, 3 + sqrt(3) (worked by hand).
    double r3 = Math.sqrt(3);
    assertArrayEquals(new double[] {3 - r3, 3, 3 + r3},
        UpdateGeometry.symmetricEigenvalues(new double[][] {{4, 1, 0}, {1, 3, 1}, {0, 1, 2}}), 1e-10);
  }

  @Test
  void principalCosinesOfSubspacesAtAKnownAngle() {
    double t = 0.7;
    // q1 = span(e1, e2); q2 = span(cos t e1 + sin t e3, e2) in R^4: principal cosines 1 and cos t.
    double[][] q1 = {{1, 0}, {0, 1}, {0, 0}, {0, 0}};
    double[][] q2 = {{Math.cos(t), 0}, {0, 1}, {Math.sin(t), 0}, {0, 0}};
    assertArrayEquals(new double[] {1, Math.cos(t)}, UpdateGeometry.principalCosines(q1, q2), 1e-12);
  }

  @Test
  void subspaceIterationFindsTheColumnSpaceOfALowRankUpdate() {
    double[][] m = UpdateGeometry.randomUpdate(40, 30, 3, 9);
    double[][] q = UpdateGeometry.topLeftSubspace(m, 3, 1);
    // Every column of m must lie in span(q): the residual after projecting onto q vanishes.
    for (int j = 0; j < 30; j++) {
      double[] proj = new double[3];
      for (int i = 0; i < 40; i++) for (int k = 0; k < 3; k++) proj[k] += q[i][k] * m[i][j];
      double residual = 0, col = 0;
      for (int i = 0; i < 40; i++) {
        double back = 0;
        for (int k = 0; k < 3; k++) back += q[i][k] * proj[k];
        residual += Math.pow(m[i][j] - back, 2);
        col += m[i][j] * m[i][j];
      }
      assertTrue(residual < 1e-20 * Math.max(1, col), "column " + j + " residual " + residual);
    }
  }

  @Test
  void anUpdateAgreesWithItselfAndItsNegation() {
    double[][] a = UpdateGeometry.randomUpdate(32, 48, 4, 1);
    double[][] neg = new double[32][48];
    for (int i = 0; i < 32; i++) for (int j = 0; j < 48; j++) neg[i][j] = -2 * a[i][j];
    var same = UpdateGeometry.compare("w", a, a, 4);
    var flipped = UpdateGeometry.compare("w", a, neg, 4);
    assertEquals(1, same.cosine(), 1e-12);
    assertEquals(-1, flipped.cosine(), 1e-12);
    assertEquals(1, same.subspaceOverlap(), 1e-9);
    assertEquals(1, flipped.subspaceOverlap(), 1e-9, "the subspace ignores sign and scale");
  }

  @Test
  void unrelatedRandomUpdatesSitAtChance() {
    var c = UpdateGeometry.compare("w", UpdateGeometry.randomUpdate(256, 256, 4, 1), UpdateGeometry.randomUpdate(256, 256, 4, 2), 4);
    assertTrue(Math.abs(c.cosine()) < 0.1, "cosine " + c.cosine());
    // Random 4-dim subspaces of R^256: E[sum of squared cosines] = 4 * 4 / 256, so each cosine is small.
    assertTrue(c.principalCosines()[0] < 0.45, "largest principal cosine " + c.principalCosines()[0]);
  }
}
