package dev.resa.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

class TablesTest {
  @Test
  void roundsDoubleColumnsOnlyAndKeepsMissingValues() {
    Table t = Table.create("t", StringColumn.create("name", "a", "b", "c"), DoubleColumn.create("x", 0.12345, -1.9996, Double.NaN));
    Table r = Tables.rounded(t, 3);
    assertEquals(0.123, r.doubleColumn("x").get(0), 0);
    assertEquals(-2.0, r.doubleColumn("x").get(1), 0);
    assertTrue(r.doubleColumn("x").isMissing(2));
    assertEquals("b", r.stringColumn("name").get(1));
    assertEquals(0.12345, t.doubleColumn("x").get(0), 0, "the input is not changed");
  }

  @Test
  void keepsInfiniteBoundsInfinite() {
    Table r = Tables.rounded(Table.create("t", DoubleColumn.create("lo", Double.NEGATIVE_INFINITY, 0.0004), DoubleColumn.create("hi", Double.POSITIVE_INFINITY, 1)), 3);
    assertEquals(Double.NEGATIVE_INFINITY, r.doubleColumn("lo").get(0), 0, "an unbounded interval stays unbounded");
    assertEquals(0.0, r.doubleColumn("lo").get(1), 0);
    assertEquals(Double.POSITIVE_INFINITY, r.doubleColumn("hi").get(0), 0);
  }
}
