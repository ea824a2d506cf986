package dev.resa.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.resa.testing.Managed;
import org.junit.jupiter.api.Test;

/** Writes, views, padding and dropping rows of {@link KvCache}, checked value by value against plain Java arrays. */
class KvCacheTest {
  private final ModelConfig c = TestModels.config(ModelConfig.Architecture.QWEN2, ModelConfig.Rope.HALF, true, true, 2, 13); // K = 2, E = 4
  @Managed private NDManager m;

  /** Value of (row b, head k, position t, coordinate e) in layer l: distinct everywhere, values negated. */
  private static double value(int l, int b, int k, int t, int e, boolean isValue) {
    double x = 1000 * l + 100 * b + 10 * k + t + 0.1 * e;
    return isValue ? -x : x;
  }

  private NDArray block(NDManager s, int l, int rows, int from, int t, boolean isValue) {
    double[] d = new double[rows * 2 * t * 4];
    int i = 0;
    for (int b = 0; b < rows; b++) for (int k = 0; k < 2; k++) for (int p = 0; p < t; p++) for (int e = 0; e < 4; e++) d[i++] = value(l, b, k, from + p, e, isValue);
    return s.create(d, new Shape(rows, 2, t, 4));
  }

  @Test
  void appendWritesInPlaceAndKeepRowsGathersRowsInOrder() {
    try (KvCache cache = new KvCache(c, m, 3, 8, DataType.FLOAT64); NDManager s = m.newSubManager()) {
      cache.setLeftPadding(new int[] {2, 0, 1});
      for (int l = 0; l < 2; l++) cache.write(l, block(s, l, 3, 0, 3, false), block(s, l, 3, 0, 3, true));
      cache.advance(3);
      for (int l = 0; l < 2; l++) {
        NDArray[] kv = cache.append(l, block(s, l, 3, 3, 1, false), block(s, l, 3, 3, 1, true));
        assertEquals(new Shape(3, 2, 4, 4), kv[0].getShape());
        assertArrayEquals(block(s, l, 3, 0, 4, false).toDoubleArray(), kv[0].toDoubleArray());
        assertArrayEquals(block(s, l, 3, 0, 4, true).toDoubleArray(), kv[1].toDoubleArray());
      }
      cache.advance(1);
      int managed = m.getManagedArrays().size();
      cache.keepRows(new int[] {2, 0});
      assertEquals(2, cache.batch());
      assertEquals(managed, m.getManagedArrays().size(), "keepRows left arrays in the parent manager");
      for (int l = 0; l < 2; l++) {
        double[] keys = cache.keys(l, 4, s).toDoubleArray(), values = cache.values(l, 4, s).toDoubleArray();
        int i = 0;
        for (int b : new int[] {2, 0}) {
          for (int k = 0; k < 2; k++) {
            for (int p = 0; p < 4; p++) {
              for (int e = 0; e < 4; e++, i++) {
                assertEquals(value(l, b, k, p, e, false), keys[i], "layer " + l + " row " + b);
                assertEquals(value(l, b, k, p, e, true), values[i], "layer " + l + " row " + b);
              }
            }
          }
        }
      }
      double pad = DecoderLM.PAD_SCORE;
      assertArrayEquals(new double[] {pad, 0, 0, 0, pad, pad, 0, 0}, cache.padMask(4, s, 4).toType(DataType.FLOAT64, false).toDoubleArray());
      assertEquals(new Shape(2, 1, 1, 4), cache.padMask(4, s, 4).getShape());
      assertEquals(new Shape(2, 1, 1, 1, 4), cache.padMask(4, s, 5).getShape());
    }
  }

  @Test
  void unpaddedCacheHasNoMaskAndAFullCacheRefusesMore() {
    try (KvCache cache = new KvCache(c, m, 2, 3, DataType.FLOAT64); NDManager s = m.newSubManager()) {
      cache.setLeftPadding(new int[] {0, 0});
      assertNull(cache.padMask(1, s, 4));
      cache.write(0, block(s, 0, 2, 0, 3, false), block(s, 0, 2, 0, 3, true));
      cache.advance(3);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> cache.write(0, block(s, 0, 2, 3, 1, false), block(s, 0, 2, 3, 1, true)));
      assertTrue(e.getMessage().contains("KV cache full"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> cache.keepRows(new int[] {}));
      assertThrows(IllegalArgumentException.class, () -> cache.keepRows(new int[] {2}));
    }
  }
}
