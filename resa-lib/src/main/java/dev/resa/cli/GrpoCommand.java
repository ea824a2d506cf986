package dev.resa.cli;

import ai.djl.ndarray.NDManager;
import dev.resa.model.DecoderLM;
import dev.resa.tokenizer.Tokenizer;
import dev.resa.eval.Problem;
import dev.resa.tuning.Grpo;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./resa grpo}: the CoT-free RL baseline (Tina's GRPO with LoRA) at small scale. */
@Command(name = "grpo", mixinStandardHelpOptions = true,
    description = {"CoT-free RL baseline (Resa Table 3, Tina): GRPO with LoRA, reward = exact match of the final answer.",
        "--data is JSONL with a prompt and an answer field per line. Writes adapter/ and training.csv to --out."})
public final class GrpoCommand implements Callable<Integer> {
  @Mixin BaseModelOption base;

  @Mixin ProblemDataOptions data;

  @Mixin OutputOption out;

  @Option(names = "--steps", defaultValue = "100", description = "Sampling rounds (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--group", defaultValue = "4", description = "Samples per prompt G (default: ${DEFAULT-VALUE}).")
  int group;

  @Option(names = "--prompts", defaultValue = "8", description = "Prompts per step (default: ${DEFAULT-VALUE}).")
  int prompts;

  @Option(names = "--max-new", defaultValue = "256", description = "Completion token budget (default: ${DEFAULT-VALUE}).")
  int maxNew;

  @Option(names = "--lr", defaultValue = "1e-6", description = "Learning rate (default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--beta", defaultValue = "0.04", description = "KL weight to the reference (default: ${DEFAULT-VALUE}).")
  double beta;

  @Option(names = "--temperature", defaultValue = "1.0", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Mixin LoraOptions lora;

  @Mixin CheckpointOptions checkpoints;

  @Option(names = "--seed", defaultValue = "42", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  /** How a completion is scored against the gold answer. */
  enum Reward {
    /** The evaluation's extractor and equivalence checker. */
    MATH,
    /** Exact match of the extracted answer. */
    EXACT;

    Grpo.Reward function() {
      return this == MATH ? Grpo.mathEquivalence() : Grpo.exactMatch();
    }
  }

  @Option(names = "--reward", defaultValue = "math",
      description = "math (the evaluation's extractor + equivalence checker) or exact (exact match of the extracted answer).")
  Reward reward;

  @Override
  public Integer call() throws Exception {
    List<Problem> problems = data.problems();
    try (NDManager root = NDManager.newBaseManager(); DecoderLM model = base.load(root)) {
      Tokenizer tok = base.tokenizer();
      Grpo.Config cfg = Grpo.Config.defaults().withLora(lora.config(seed)).withGroups(prompts, group).withMaxNewTokens(maxNew)
          .withTemperature(temperature).withKlBeta(beta).withRounds(steps).withSeed(seed).withLr(lr);
      cfg = cfg.withTrain(checkpoints.apply(cfg.train(), out.dir, base.toString()));
      try (Grpo grpo = new Grpo(model, tok, reward.function(), cfg)) {
        double[] reward = grpo.train(problems).log().table().doubleColumn("reward").asDoubleArray();
        System.out.printf(Locale.ROOT, "GRPO: mean reward first step %.3f, last step %.3f; adapter in %s%n", reward[0], reward[reward.length - 1],
            out.dir.resolve("adapter"));
      }
    }
    return 0;
  }
}
