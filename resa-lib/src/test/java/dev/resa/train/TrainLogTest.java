package dev.resa.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainLogTest {
  @Test
  void extraColumnsAppearOnDemandAndSurviveCsv(@TempDir Path dir) throws IOException {
    TrainLog log = new TrainLog("t");
    log.add(1, 2.5, 1e-4, 1000, Map.of());
    log.add(2, 2.25, 2e-4, 1100, Map.of("grad_norm", 0.75));
    log.add(3, 2.125, 3e-4, 1200, Map.of());
    assertEquals(3, log.rows());
    assertTrue(log.table().doubleColumn("grad_norm").isMissing(0));
    assertEquals(0.75, log.table().doubleColumn("grad_norm").getDouble(1));
    assertTrue(log.table().doubleColumn("grad_norm").isMissing(2));

    Path csv = dir.resolve("log.csv");
    log.save(csv);
    assertTrue(Files.readString(csv).startsWith("step,loss,lr,tokens_per_s,grad_norm"));
    TrainLog back = TrainLog.load(csv);
    assertArrayEquals(new double[] {2.5, 2.25, 2.125}, back.losses());
    assertEquals(3e-4, back.table().doubleColumn("lr").getDouble(2));
    assertEquals(2, back.table().intColumn("step").getInt(1));

    back.truncateAfter(2);
    assertEquals(2, back.rows());
  }

  @Test
  void missingColumnIsNamed(@TempDir Path dir) throws IOException {
    Path csv = dir.resolve("bad.csv");
    Files.writeString(csv, "step,loss\n1,2.0\n");
    IOException e = assertThrows(IOException.class, () -> TrainLog.load(csv));
    assertTrue(e.getMessage().contains("'lr'") && e.getMessage().contains("bad.csv"), e.getMessage());
  }
}
