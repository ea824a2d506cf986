package dev.resa.train;

/** Learning-rate schedules as functions of the (0-based) step. */
@FunctionalInterface
public interface LrSchedule {
  double at(long step);

  static LrSchedule constant(double lr) {
    return step -> lr;
  }

  /** Linear warm-up to {@code peak} over {@code warmup} steps, then cosine decay to {@code floor} at {@code total}. */
  static LrSchedule cosine(double peak, double floor, long warmup, long total) {
    return step -> {
      if (step < warmup) return peak * (step + 1) / warmup;
      if (step >= total) return floor;
      double progress = (double) (step - warmup) / Math.max(1, total - warmup);
      return floor + 0.5 * (peak - floor) * (1 + Math.cos(Math.PI * progress));
    };
  }
}
