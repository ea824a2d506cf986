package dev.resa.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
  @Test
  void cosineWithWarmupHitsTheHandValues() {
    LrSchedule s = LrSchedule.cosine(1.0, 0.1, 10, 110); // peak 1, floor 0.1, 10 warm-up steps, 100 decay steps
    assertEquals(0.1, s.at(0), 1e-12); // (0 + 1) / 10
    assertEquals(0.5, s.at(4), 1e-12);
    assertEquals(1.0, s.at(9), 1e-12); // warm-up ends at the peak
    assertEquals(1.0, s.at(10), 1e-12); // cosine starts at the peak
    assertEquals(0.1 + 0.45 * (1 + Math.cos(Math.PI * 0.25)), s.at(35), 1e-12);
    assertEquals(0.55, s.at(60), 1e-12); // half way: floor + (peak - floor) / 2
    assertEquals(0.1 + 0.45 * (1 + Math.cos(Math.PI * 0.99)), s.at(109), 1e-12);
    assertEquals(0.1, s.at(110), 1e-12);
    assertEquals(0.1, s.at(10_000), 1e-12); // stays at the floor past the end
  }

  @Test
  void cosineIsMonotoneAfterWarmupAndConstantIsConstant() {
    LrSchedule s = LrSchedule.cosine(3e-4, 3e-5, 5, 50);
    for (int t = 6; t <= 50; t++) assertEquals(true, s.at(t) <= s.at(t - 1), "step " + t);
    assertEquals(2e-3, LrSchedule.constant(2e-3).at(123), 0);
  }
}
