package dev.resa.miniature;

import dev.resa.miniature.Miniature.Model;
import dev.resa.task.ArithmeticTask;
import java.nio.file.Path;

/**
 * One SAE-Tuning run beside the main table (Table 5's generality, Table 6's layer sweep), on a run that
 * {@link Miniature#run} has finished: Stage I from scratch on {@code saeModel}'s residual stream after {@code layer} over
 * CoT-free trigger texts of {@code trigger} (null: the run's own); Stage II of base at that layer; held-out
 * evaluation. Cached under {@code <run>/experiments/<name>/}, keyed like every stage.
 *
 * @param saeSteps Stage-I steps (the preset's to compare with the main table).
 * @param tuneSteps Stage-II steps; 0 trains the SAE only (the last layer has no layer after it to adapt).
 */
public record Experiment(String name, Model saeModel, int layer, ArithmeticTask.Config trigger, int saeSteps, int tuneSteps) {
  public Experiment {
    if (saeSteps <= 0 || tuneSteps < 0) throw new IllegalArgumentException("need saeSteps > 0 and tuneSteps >= 0");
  }

  public Path dir(Path runDir) {
    return runDir.resolve("experiments").resolve(name);
  }
}
