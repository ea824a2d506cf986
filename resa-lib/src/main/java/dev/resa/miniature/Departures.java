package dev.resa.miniature;

import dev.resa.sae.SaeTrainer;
import dev.resa.tuning.Grpo;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Every remaining difference between a preset and Resa's recipe (the code's values where paper and code disagree; see
 * {@code resa-algorithm.md}), each with its reason, for the report's "Departures from the paper's recipe" section.
 * Rows whose preset value equals the recipe's are left out, so the list shrinks as presets move to the recipe.
 */
final class Departures {
  private Departures() {}

  /** Why a setting departs from the recipe. */
  enum Reason {
    /** The model, data or sequence are a toy version of the paper's, so a size-bound setting has to shrink with them. */
    TOY_SCALE("toy scale"),
    /** The whole run has to fit minutes on 2 CPU cores. */
    CPU_BUDGET("CPU budget"),
    /** The paper's choice would bias the result (for example, choosing on the test set). */
    SOUNDER("sounder than the paper"),
    /** A toy-scale choice made on validation problems (never the test set). */
    VALIDATED("toy scale, chosen on validation"),
    /** Not moved yet: it needs a validation run that has not been made. */
    NOT_YET("not yet moved");

    final String label;

    Reason(String label) {
      this.label = label;
    }
  }

  /** One departure: what it concerns, the recipe's value, this preset's value, and why. */
  record Departure(String topic, String paper, String here, Reason reason, String why) {}

  /** The departures of preset {@code p}, in pipeline order; {@code pick} (or null) is the validation sweep that set Stage II's lr and steps. */
  static List<Departure> of(Preset p, TuneSweep.Pick pick) {
    return of(p, pick, null);
  }

  /** As {@link #of(Preset, TuneSweep.Pick)}; {@code search} (or null) is the validation search that set the SAE's size and layer. */
  static List<Departure> of(Preset p, TuneSweep.Pick pick, Search.Pick search) {
    List<Departure> d = new ArrayList<>();
    d.add(new Departure("model", "DeepSeek-R1-Distill-Qwen-1.5B: 28 layers, d 1536, bf16 on GPUs",
        f("tiny Qwen2 pretrained here: %d layers, d %d, %d heads, fp32 on CPU", p.layers(), p.hidden(), p.heads()), Reason.CPU_BUDGET,
        "a 1.5B model cannot be trained, RL-tuned and evaluated nine times in minutes on 2 cores"));
    d.add(new Departure("data and benchmarks", "STILL (33k math problems) as trigger and elicitation; AIME/AMC/MATH500/GPQA/Minerva",
        f("synthetic %d-%d step arithmetic; %d held-out problems", p.task().minSteps(), p.task().maxSteps(), p.testProblems()), Reason.TOY_SCALE,
        "a task a tiny model learns in minutes, with an exact grader and a reasoning trace that visibly helps"));
    d.add(new Departure("source (Tina)", "GRPO + LoRA for ~2000 steps; reward 2 accuracy + 1 format; lr 1e-6, 10 % warm-up, cosine to 10 % "
        + "planned over twice the steps run, no weight decay",
        f("%d GRPO rounds x %d prompts x %d samples; reward 2 accuracy + 1 format (format: `</think>` once, then one answer in the task's form); "
            + "Tina's warm-up, cosine and weight decay at peak lr %s; KL %s to base", p.rlSteps(), p.rlPrompts(), p.rlGroup(), g(p.rlLr()), g(p.rlKl())),
        Reason.TOY_SCALE, "reward and schedule shape are Tina's; the peak lr is far above 1e-6, which does not move a tiny LoRA in a few "
            + "dozen rounds, and the rounds are sized to the CPU budget"));
    if (p.rlTemperature() != Grpo.TINA_TEMPERATURE) {
      d.add(new Departure("GRPO sampling temperature", f("T %s (Tina's recipes)", g(Grpo.TINA_TEMPERATURE)), f("T %s", g(p.rlTemperature())),
          Reason.VALIDATED, "the preset samples at the evaluation temperature, so RL trains on what is scored; on validation problems "
              + "Tina's 0.7 made no difference (default preset, seed 0, 200 problems x 4 samples: source Pass@1 0.840 at T 0.6, 0.841 at 0.7)"));
    }
    d.add(new Departure("hook layer", "model.layers.12 of 28 (decoder-layer output)", f("layers.%d of %d (decoder-layer output)", p.hookLayer(), p.layers()),
        search != null ? Reason.VALIDATED : Reason.TOY_SCALE, search != null ? f("picked on %d validation problems from layers %s (`search.csv`)",
            search.problems(), searched(search, Search.Axis.LAYER)) : "the middle layer, so there are layers on both sides of the splice"));
    d.add(new Departure("SAE size", "65,536 latents (43 x d), k 32",
        f("%d latents (%d x d), k %d", p.saeLatents(), p.saeLatents() / Math.max(1, p.hidden()), p.saeK()), search != null ? Reason.VALIDATED : Reason.TOY_SCALE,
        search != null ? f("picked on %d validation problems from widths %s and k %s (`search.csv`)", search.problems(),
            searched(search, Search.Axis.WIDTH), searched(search, Search.Axis.K))
            : f("a lossy SAE at d %d, so that even base's own SAE changes the model (the feasibility study)", p.hidden())));
    if (search != null && p.saeSourceStep() != p.rlSteps()) {
      d.add(new Departure("SAE's source", "the finished source (Tina's last checkpoint)", f("the source after %d of %d GRPO rounds", p.saeSourceStep(),
          p.rlSteps()), Reason.VALIDATED, f("picked on %d validation problems from source steps %s (`search.csv`)", search.problems(),
          searched(search, Search.Axis.SOURCE_STEP))));
    }
    d.add(new Departure("Stage I data and steps", "one epoch: ~91 steps x 32 sequences x 2048 tokens of STILL",
        f("%d steps x %d activation rows, repeated shuffled passes over %d trigger texts", p.saeSteps(), p.saeBatch(), p.saeTexts()),
        Reason.TOY_SCALE, "the toy trigger set is small, so the SAE sees it several times"));
    if (p.saeOptimizer() != SaeTrainer.Optimizer.SIGNUM || p.saeLr() != 0) {
      d.add(new Departure("Stage I optimiser", "SignSGD + Schedule-Free, lr 5e-3 / sqrt(m / 2^14)", f("%s, lr %s", p.saeOptimizer(),
          p.saeLr() == 0 ? "automatic" : g(p.saeLr())), Reason.NOT_YET, "an ablation setting of this preset"));
    }
    d.add(new Departure("packing", "2048-token chunks", "64-token chunks (EOS between documents, as sparsify packs)", Reason.TOY_SCALE,
        "a toy example is about 20 tokens"));
    double scale = p.loraAlpha() / p.loraRank();
    d.add(new Departure("LoRA (Stage II, SFT, GRPO)", "r 32, alpha 128 (scale 4), dropout 0.05, all 7 projections",
        f("r %d, alpha %s (scale %s), dropout %s, all 7 projections (Stage II: of the layers after the splice, which is exact since the "
            + "splice is detached)", p.loraRank(), g(p.loraAlpha()), g(scale), g(Stages.LORA_DROPOUT)),
        Reason.TOY_SCALE, scale == 4 ? "rank scaled down with the width d; scale and dropout as the recipe"
            : "rank scaled down with the width d; this preset also departs from the recipe's scale 4"));
    d.add(new Departure("Stage II lr, steps, batch", "lr 1e-6 constant, AdamW wd 0.01, 2 epochs = 2896 steps of 2 x 2048 tokens",
        f("lr %s constant, AdamW wd 0.01, %d steps of %d texts", g(p.tuneLr()), p.tuneSteps(), p.tuneBatch()),
        pick != null ? Reason.VALIDATED : Reason.TOY_SCALE, pick != null ? "1e-6 does not move a tiny LoRA in 100 steps; " + pick.describe()
            : "1e-6 does not move a tiny LoRA in 100 steps; the lr was set by hand on earlier runs (halved when the scale went from 2 to 4, "
            + "keeping scale x lr); `--sweep` picks lr and steps on validation problems instead"));
    d.add(new Departure("SFT baselines", "sft.py: lr 1e-5, cosine after 5 % warm-up, no weight decay, 3 epochs, batch 16, loss on the "
        + "whole `think: ... answer:` chat text", f("sft.py's loop and loss (cosine after 5 %% warm-up, no weight decay, loss on the whole text: "
        + "prompt and completion) at Stage II's lr %s, %d steps of %d texts, the task's own text form", g(p.tuneLr()), p.tuneSteps(), p.tuneBatch()),
        Reason.SOUNDER, "matched on steps, batch and lr with Stage II, so Table 3's ablation compares objectives rather than budgets; "
            + "the task's own form because the grader reads `\\boxed{}` or the answer tags, which sft.py's `answer:` line lacks"));
    d.add(new Departure("checkpoint choice", "best of checkpoints 1000-2500 by test-benchmark average", "the last step; the test set is never "
        + "used for a choice", Reason.SOUNDER, "choosing on the test set inflates the reported score"));
    d.add(new Departure("evaluation", "lighteval + vLLM, 1 sample per problem at T 0.6, top-p 0.95, up to 32k new tokens",
        f("%d samples per problem at T 0.6, top-p 0.95, plus greedy; up to %d new tokens", p.samples(), p.maxNewTokens()), Reason.SOUNDER,
        "several samples per problem narrow the intervals; the budget fits the longest trace and its answer"));
    return d;
  }

  /** The values a search tried on {@code axis}. */
  private static List<Integer> searched(Search.Pick search, Search.Axis axis) {
    return search.candidates().stream().filter(c -> c.axis() == axis).map(Search.Candidate::value).toList();
  }

  /** The report section: a markdown table, one row per departure. */
  static String markdown(Preset p, TuneSweep.Pick pick) {
    return markdown(p, pick, null);
  }

  /** As {@link #markdown(Preset, TuneSweep.Pick)} with the validation search behind the preset (or null). */
  static String markdown(Preset p, TuneSweep.Pick pick, Search.Pick search) {
    StringBuilder sb = new StringBuilder("| topic | paper (code where they differ) | here | reason | why |\n|---|---|---|---|---|\n");
    for (Departure x : of(p, pick, search)) {
      sb.append("| ").append(x.topic()).append(" | ").append(x.paper()).append(" | ").append(x.here()).append(" | ").append(x.reason().label)
          .append(" | ").append(x.why()).append(" |\n");
    }
    return sb.toString();
  }

  private static String f(String fmt, Object... args) {
    return String.format(Locale.ROOT, fmt, args);
  }

  /** A knob value, 3 significant digits, plain and without trailing zeros: 0.001, 0.0005, 16. */
  static String g(double v) {
    return new java.math.BigDecimal(v).round(new java.math.MathContext(3)).stripTrailingZeros().toPlainString();
  }
}
