package dev.resa.miniature;

import ai.djl.ndarray.NDManager;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.task.ArithmeticTask;
import dev.resa.train.Batches;
import dev.resa.train.LmTrainer;
import dev.resa.train.Progress;
import dev.resa.train.TokenBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import tech.tablesaw.api.Table;

/** The miniature's one LM pretraining loop: base from random weights, and {@link Modularity}'s target continued from base. */
final class Pretraining {
  private Pretraining() {}

  /**
   * Base's optimiser for {@code steps} steps of {@code baseBatch}: AdamW (decay 0.01, betas 0.9 / 0.999), linear warm-up
   * to {@code lr} over a tenth of the steps (at most 50), cosine to a tenth of {@code lr}; {@code dataSeed} orders the data.
   */
  static LmTrainer.Config config(Preset p, int steps, double lr, long dataSeed) {
    return LmTrainer.Config.defaults().withSteps(steps).withBatch(p.baseBatch()).withLr(lr, Math.min(50, steps / 10))
        .withAdamW(0.01, 0.9, 0.999).withSeed(dataSeed);
  }

  /**
   * Trains every weight of {@code model} for {@code tc.steps()} steps on {@code data} (loss on completions; {@code tc}
   * null: no step, the model is saved as it is), then freezes it and saves it in {@code d} with the task's tokenizer and
   * a {@link RunCache} stamp {@code key} (tokens seen and training FLOPs).
   */
  static void run(String name, DecoderLM model, LmTrainer.Config tc, Batches data, Path d, String key, long t0) throws IOException {
    double tokens = 0;
    Table log = Table.create("none");
    if (tc != null) {
      try (LmTrainer trainer = LmTrainer.forBatches(model, tc); Progress.Bar bar = Progress.start(name, tc.steps())) {
        for (int step = 0; step < tc.steps(); step++) {
          Progress.checkInterrupted();
          try (NDManager scope = model.stepScope()) {
            TokenBatch b = data.at(step, scope);
            tokens += b.realTokens();
            bar.update(step + 1, Map.of("loss", trainer.trainStep(b.inputs(), b.targets(), b.targetMask()).loss()));
          }
        }
        log = trainer.log().table();
      }
    }
    model.weights().setTrainable(n -> false);
    HfCheckpoint.save(model, d);
    ArithmeticTask.tokenizer().save(d.resolve("char_tokenizer.json")); // so ./resa eval / generate open the folder like any model
    RunCache.finish(d, key, log, t0, Map.of("tokens", tokens, "flops", Costs.train(model.config(), tokens)));
  }
}
