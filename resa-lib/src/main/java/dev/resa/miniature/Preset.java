package dev.resa.miniature;

import dev.resa.task.ArithmeticTask;

/**
 * Every size and rate of the miniature, in one place. Two presets: {@code default} (the README's first command,
 * at most 10 minutes on 2 cores) and {@code ci} (at most 3 minutes, for tests and notebooks under RESA_CI=1).
 *
 * @param name preset name, also the run-directory prefix.
 * @param task the arithmetic task (default: 2-4 single-digit operations mod 10, as the feasibility study kept).
 * @param hidden residual width d (64: d=128 was too slow on 2 cores in the feasibility study).
 * @param layers decoder layers (4, so the middle layer 2 has layers on both sides).
 * @param heads attention heads (4 query heads over 2 KV heads: Qwen2's grouped-query attention, in small).
 * @param intermediate SwiGLU width (128 = 2d keeps the MLP as cheap as the attention).
 * @param baseSteps pretraining steps of base (the loss sits near 0.6 until the model learns to copy operands from the
 *     prompt, after 400 steps at batch 128 or 600-1200 at batch 16, then near 0.11 while only two-step chains come out
 *     right; when a seed leaves that second plateau varies: 5000 steps of 16 took seed 1 all the way and seed 0 most
 *     of it, where 4000 left seed 1 at two-step chains).
 * @param baseBatch sequences per pretraining step (16: a step costs in proportion to its batch, while the plateau's
 *     length in steps grows much more slowly as the batch shrinks, so small batches reach a reasoning base soonest).
 * @param baseLr peak AdamW learning rate of base pretraining (cosine to 10%; 1e-2 did not shorten the plateau).
 * @param traceShare share of pretraining examples written with a trace (0.6 in default: 1.5x the arithmetic signal
 *     of 0.4 per step, and at T=0.6 the base still answers directly a third to a half of the time).
 * @param rlSteps GRPO steps that turn base into source (Tina's role).
 * @param rlPrompts prompts per GRPO step.
 * @param rlGroup samples per prompt (the GRPO group).
 * @param rlLr LoRA learning rate of GRPO (low, per the feasibility study, so arithmetic survives).
 * @param rlKl weight of the KL penalty to base (keeps the policy near base while the think rate rises).
 * @param rlTemperature sampling temperature during GRPO (0.6, the evaluation temperature).
 * @param loraRank LoRA rank r for GRPO, SAE-Tuning and SFT.
 * @param loraAlpha LoRA alpha (scale alpha/r; Resa: 128/32 = 4).
 * @param hookLayer the SAE's layer, 0-indexed (Resa: model.layers.12 of 28; here the middle one).
 * @param saeLatents SAE width m (a lossy 4x, as the feasibility study suggests, so even base's own SAE bites).
 * @param saeK active latents per token (TopK).
 * @param saeSteps SAE optimizer steps.
 * @param saeBatch activation rows per SAE step.
 * @param saeTexts CoT-free trigger texts whose activations train the SAE.
 * @param tuneSteps Stage-II (SAE-Tuning) steps; also the step count of both SFT baselines.
 * @param tuneBatch texts per Stage-II / SFT step.
 * @param tuneLr LoRA learning rate of Stage II and SFT (1e-3: KL converges within ~100 steps at this size).
 * @param testProblems held-out problems evaluated (never used for any choice).
 * @param samples samples per problem at T=0.6 for Pass@1 (greedy is scored on top).
 * @param maxNewTokens generation budget (the longest trace plus its answer fits).
 */
public record Preset(
    String name,
    ArithmeticTask.Config task,
    int hidden,
    int layers,
    int heads,
    int intermediate,
    int baseSteps,
    int baseBatch,
    double baseLr,
    double traceShare,
    int rlSteps,
    int rlPrompts,
    int rlGroup,
    double rlLr,
    double rlKl,
    double rlTemperature,
    int loraRank,
    double loraAlpha,
    int hookLayer,
    int saeLatents,
    int saeK,
    int saeSteps,
    int saeBatch,
    int saeTexts,
    int tuneSteps,
    int tuneBatch,
    double tuneLr,
    int testProblems,
    int samples,
    int maxNewTokens) {

  /**
   * Fits the 10-minute budget (about 5 CPU-minutes, two thirds of them the base): the base's traces are mostly
   * right while its direct answers stay near chance, so RL and SAE-Tuning have room to help.
   */
  public static Preset defaults() {
    return new Preset("default", ArithmeticTask.Config.defaults(), 64, 4, 4, 128,
        5000, 16, 2e-3, 0.6,
        24, 8, 8, 2e-4, 0.05, 0.6,
        8, 16.0,
        2, 256, 4, 300, 1024, 2000,
        100, 48, 1e-3,
        200, 4, 48);
  }

  /**
   * The feasibility study's base (1400 steps of 128 on the 40/60 traced / answer-only mix): traces nearly always
   * right, direct answers about a quarter. About 15-20 minutes on 2 cores.
   */
  public static Preset longer() {
    Preset d = defaults();
    return new Preset("long", d.task(), d.hidden(), d.layers(), d.heads(), d.intermediate(),
        1400, 128, 2e-3, 0.4,
        40, 16, 8, d.rlLr(), d.rlKl(), d.rlTemperature(),
        d.loraRank(), d.loraAlpha(), d.hookLayer(), d.saeLatents(), d.saeK(), d.saeSteps(), d.saeBatch(), d.saeTexts(),
        150, 64, d.tuneLr(), d.testProblems(), d.samples(), d.maxNewTokens());
  }

  public static Preset ci() {
    return new Preset("ci", ArithmeticTask.Config.defaults(), 32, 4, 4, 64,
        250, 48, 3e-3, 0.4,
        8, 8, 8, 2e-4, 0.05, 0.6,
        4, 8.0,
        2, 128, 4, 150, 512, 600,
        40, 32, 1e-3,
        60, 2, 48);
  }

  public static Preset named(String name) {
    return switch (name) {
      case "default" -> defaults();
      case "ci" -> ci();
      case "long" -> longer();
      default -> throw new IllegalArgumentException("unknown preset '" + name + "' (choose default, ci or long)");
    };
  }
}
