package dev.resa.cli;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.core.Djl;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.tokenizer.Tokenizer;
import dev.resa.eval.Problem;
import dev.resa.tuning.Grpo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
  @Option(names = "--base", required = true, description = "Base model folder.")
  Path base;

  @Option(names = "--data", required = true, description = "JSONL file: one problem per line.")
  Path data;

  @Option(names = "--prompt-field", defaultValue = "problem", description = "Field with the prompt (default: ${DEFAULT-VALUE}).")
  String promptField;

  @Option(names = "--answer-field", defaultValue = "answer", description = "Field with the gold answer (default: ${DEFAULT-VALUE}).")
  String answerField;

  @Option(names = "--out", required = true, description = "Output folder.")
  Path out;

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

  @Option(names = "--reward", defaultValue = "math",
      description = "math (the evaluation's extractor + equivalence checker) or exact (exact match of the extracted answer).")
  String reward;

  @Override
  public Integer call() throws Exception {
    Djl.init();
    List<Problem> problems = readProblems(data, promptField, answerField);
    try (NDManager root = NDManager.newBaseManager(); DecoderLM model = HfCheckpoint.load(base, root)) {
      Tokenizer tok = TuningInputs.tokenizer(base);
      Grpo.Config cfg = Grpo.Config.defaults().withLora(lora.config(seed)).withGroups(prompts, group).withMaxNewTokens(maxNew)
          .withTemperature(temperature).withKlBeta(beta).withRounds(steps).withSeed(seed).withLr(lr);
      cfg = cfg.withTrain(checkpoints.apply(cfg.train(), out, base.toString()));
      Grpo.Reward fn = switch (reward) {
        case "math" -> Grpo.mathEquivalence();
        case "exact" -> Grpo.exactMatch();
        default -> throw new IllegalArgumentException("--reward must be math or exact, got '" + reward + "'");
      };
      try (Grpo grpo = new Grpo(model, tok, fn, cfg)) {
        double[] reward = grpo.train(problems).log().table().doubleColumn("reward").asDoubleArray();
        System.out.printf(Locale.ROOT, "GRPO: mean reward first step %.3f, last step %.3f; adapter in %s%n", reward[0], reward[reward.length - 1],
            out.resolve("adapter"));
      }
    }
    return 0;
  }

  static List<Problem> readProblems(Path file, String promptField, String answerField) throws IOException {
    if (!Files.isRegularFile(file)) throw new IOException("data file not found: " + file);
    List<Problem> out = new ArrayList<>();
    List<String> lines = Files.readAllLines(file);
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).isBlank()) continue;
      JsonObject o;
      try {
        o = JsonParser.parseString(lines.get(i)).getAsJsonObject();
      } catch (RuntimeException e) {
        throw new IOException(file + ":" + (i + 1) + ": not a JSON object: " + e.getMessage(), e);
      }
      for (String f : List.of(promptField, answerField)) {
        if (!o.has(f) || o.get(f).isJsonNull()) throw new IOException(file + ":" + (i + 1) + ": missing field '" + f + "'");
      }
      out.add(new Problem("line " + (i + 1), o.get(promptField).getAsString(), List.of(o.get(answerField).getAsString()), List.of(), null));
    }
    if (out.isEmpty()) throw new IOException(file + ": no problems");
    return out;
  }
}
