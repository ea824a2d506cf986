package dev.resa.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The estimates count what the code keeps alive, and an over-budget stage is refused with what to lower. */
class MemoryEstimateTest {
  private final ModelConfig r1 = R1DistillFixture.config(R1DistillFixture.LAYERS);

  @Test
  void weightsAreTheParameterCountInFloat32() {
    // R1-Distill-Qwen-1.5B: 1,777,088,000 parameters with its untied head
    assertEquals(1_777_088_000L * 4, MemoryEstimate.weights(r1));
  }

  @Test
  void forwardGrowsWithOneLayerOfScoresNotWithDepth() {
    long shallow = MemoryEstimate.forward(R1DistillFixture.config(2), 1, 2048);
    long deep = MemoryEstimate.forward(r1, 1, 2048);
    // depth adds only one [T, D] residual per layer (26 x 2048 x 1536 floats), not another layer of scores
    assertEquals(26L * 2048 * 1536 * 4, deep - shallow);
  }

  @Test
  void stageTwoAtResaSizeIsRefusedAndTheMessageSaysWhatToLower() {
    long resa = MemoryEstimate.stageTwoStep(r1, 12, 2, 2048, 256, 20_000_000);
    long small = MemoryEstimate.stageTwoStep(r1, 12, 1, 512, 256, 20_000_000);
    assertTrue(resa > 24e9, "2 x 2048 estimated at " + MemoryEstimate.gb(resa));
    assertTrue(small < 10e9, "1 x 512 estimated at " + MemoryEstimate.gb(small));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> MemoryEstimate.require("a Stage-II step of 2 x 2048 tokens", resa, 20_000_000_000L, "lower --stage2-tokens or --stage2-batch"));
    assertTrue(e.getMessage().contains("needs about") && e.getMessage().contains("budget is 20.0 GB")
        && e.getMessage().endsWith("lower --stage2-tokens or --stage2-batch"), e.getMessage());
    MemoryEstimate.require("fits", small, 20_000_000_000L, "nothing"); // no exception
  }
}
