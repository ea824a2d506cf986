package dev.resa.eval;

import dev.resa.core.DataDir;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * The benchmarks of Resa's evaluation (paper §2.2 / spec §5) plus two training sets, each read from the offline
 * data folder ({@link DataDir}) into {@link Problem}s. Dataset cards: {@code datasets/<name>.md}.
 */
public enum Benchmark {
  MATH500("math500", "math500/test.jsonl"),
  AIME24("aime24", "aime24/test.jsonl"),
  AMC23("amc23", "amc23/test.jsonl"),
  MINERVA("minerva", "minerva_math/test.jsonl"),
  GPQA("gpqa", "gpqa_diamond/diamond.json.gz"),
  GSM8K("gsm8k", "gsm8k/test.jsonl"),
  MATH_TRAIN("math_train", "math_train/math.json");

  /** The name used on the command line and in result folders. */
  public final String key;
  /** The file inside the data folder. */
  public final String file;

  Benchmark(String key, String file) {
    this.key = key;
    this.file = file;
  }

  /** The benchmark called {@code name} (case-insensitive; "math_500", "minerva_math", "gpqa_diamond" accepted). */
  public static Benchmark of(String name) {
    String n = name.strip().toLowerCase().replace("-", "_").replace(":", "_");
    n = switch (n) {
      case "math_500" -> "math500";
      case "minerva_math" -> "minerva";
      case "gpqa_diamond" -> "gpqa";
      default -> n;
    };
    for (Benchmark b : values()) if (b.key.equals(n)) return b;
    throw new IllegalArgumentException("unknown benchmark '" + name + "'; known: "
        + Arrays.stream(values()).map(b -> b.key).collect(Collectors.joining(", ")));
  }

  /** Parses a comma-separated list such as {@code math500,aime24}. */
  public static List<Benchmark> list(String csv) {
    List<Benchmark> out = new ArrayList<>();
    for (String part : csv.split(",")) if (!part.isBlank()) out.add(of(part));
    if (out.isEmpty()) throw new IllegalArgumentException("no benchmark named in '" + csv + "'");
    return out;
  }

  /** Loads every problem; GPQA options are shuffled with seed 0. */
  public List<Problem> load(Path dataDir) throws IOException {
    return load(dataDir, 0);
  }

  /**
   * Loads every problem. {@code choiceSeed} fixes the GPQA option order: as in lighteval, the correct answer is
   * inserted at a random position among the three incorrect ones (kept in file order); the position comes from
   * {@code new SplittableRandom(choiceSeed * 1_000_003 + id.hashCode())} (well mixed even for neighbouring ids), so a seed gives the same A-D layout on every machine.
   */
  public List<Problem> load(Path dataDir, long choiceSeed) throws IOException {
    Path dir = DataDir.require(dataDir);
    Path path = dir.resolve(file);
    List<Problem> out = new ArrayList<>();
    switch (this) {
      case MATH500 -> {
        for (DataFiles.Row r : DataFiles.jsonl(path)) {
          out.add(new Problem(r.string("unique_id"), r.string("problem"), List.of(r.string("answer")), List.of(), r.string("solution")));
        }
      }
      case AIME24 -> {
        for (DataFiles.Row r : DataFiles.jsonl(path)) {
          out.add(new Problem(r.string("id"), r.string("problem"), List.of(r.string("answer")), List.of(), r.string("solution")));
        }
      }
      case AMC23 -> {
        for (DataFiles.Row r : DataFiles.jsonl(path)) {
          out.add(new Problem(r.string("id"), r.string("problem"), List.of(plainNumber(r.string("answer"))), List.of(), null));
        }
      }
      case MINERVA -> {
        for (DataFiles.Row r : DataFiles.jsonl(path)) {
          String solution = r.string("solution");
          String boxed = Answers.lastBoxed(solution)
              .orElseThrow(() -> new IllegalArgumentException(r.where() + ": solution has no \\boxed{} answer"));
          out.add(new Problem(r.string("idx"), r.string("problem"), List.of(boxed), List.of(), solution));
        }
      }
      case GPQA -> {
        for (DataFiles.Row r : DataFiles.jsonArray(path)) out.add(gpqa(r, choiceSeed));
      }
      case GSM8K -> {
        int i = 0;
        for (DataFiles.Row r : DataFiles.jsonl(path)) {
          String solution = r.string("answer");
          int hash = solution.lastIndexOf("####");
          if (hash < 0) throw new IllegalArgumentException(r.where() + ": answer has no '#### <number>' line");
          String answer = solution.substring(hash + 4).strip().replace(",", "");
          out.add(new Problem("test/" + i++, r.string("question"), List.of(answer), List.of(), solution));
        }
      }
      case MATH_TRAIN -> {
        int i = 0;
        for (DataFiles.Row r : DataFiles.jsonArray(path)) {
          String id = "train/" + i++;
          if (!r.has("answer") || r.string("answer").isBlank()) continue; // 4 of 7474 have a null or empty answer
          out.add(new Problem(id, r.string("problem"), List.of(r.string("answer")), List.of(), null));
        }
      }
    }
    if (out.isEmpty()) throw new IllegalArgumentException(path + ": no records");
    return out;
  }

  private static Problem gpqa(DataFiles.Row r, long seed) {
    String id = r.string("id");
    String correct = r.string("Correct Answer").strip();
    List<String> options = new ArrayList<>();
    for (int k = 1; k <= 3; k++) options.add(r.string("Incorrect Answer " + k).strip());
    int at = new SplittableRandom(seed * 1_000_003L + id.hashCode()).nextInt(4);
    options.add(at, correct);
    return new Problem(id, r.string("Question").strip(), List.of(String.valueOf((char) ('A' + at))), options, null);
  }

  /** AMC answers are stored as JSON floats ("27.0"): written back as the number a contestant would give. */
  static String plainNumber(String s) {
    try {
      return new BigDecimal(s).stripTrailingZeros().toPlainString();
    } catch (NumberFormatException e) {
      return s;
    }
  }

  /**
   * Minerva's alternative answers from agentica's rllm copy ({@code minerva_math/rllm_minerva.json}), keyed by idx.
   * Used to cross-check our answer checker; see the dataset card for why they are not used as references.
   */
  public static Map<String, List<String>> minervaAlternatives(Path dataDir) throws IOException {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (DataFiles.Row r : DataFiles.jsonArray(DataDir.require(dataDir).resolve("minerva_math/rllm_minerva.json"))) {
      if (!r.has("answer") || !r.json().get("answer").isJsonArray()) {
        throw new IllegalArgumentException(r.where() + ": record has no 'answer' list");
      }
      List<String> answers = new ArrayList<>();
      r.json().getAsJsonArray("answer").forEach(e -> answers.add(e.getAsString().strip()));
      out.put(r.string("idx"), answers);
    }
    return out;
  }

  /** Whether the data folder holds this benchmark's file. */
  public boolean availableIn(Path dataDir) {
    return Files.isRegularFile(DataDir.resolve(dataDir).resolve(file));
  }
}
