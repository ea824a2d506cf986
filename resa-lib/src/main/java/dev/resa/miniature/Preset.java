package dev.resa.miniature;

import dev.resa.sae.SaeTrainer;
import dev.resa.task.ArithmeticTask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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
 * @param rlLr LoRA learning rate of GRPO (low, per the feasibility study, so arithmetic survives; 1e-4 at scale 4 = the
 *     2e-4 at scale 2 that study used, since under Adam the step of the update BA grows with scale x lr).
 * @param rlKl weight of the KL penalty to base (keeps the policy near base while the think rate rises).
 * @param rlTemperature sampling temperature during GRPO (0.6, the evaluation temperature).
 * @param loraRank LoRA rank r for GRPO, SAE-Tuning and SFT.
 * @param loraAlpha LoRA alpha (scale alpha/r; Resa: 128/32 = 4, so presets use alpha = 4r).
 * @param hookLayer the SAE's layer, 0-indexed (Resa: model.layers.12 of 28; here the middle one).
 * @param saeLatents SAE width m (a lossy 4x, as the feasibility study suggests, so even base's own SAE bites).
 * @param saeK active latents per token (TopK).
 * @param saeSourceStep GRPO rounds of the source whose activations train the from-scratch SAE (and the fine-tuned one):
 *     default {@code rlSteps}, the finished source as in Resa; an earlier kept checkpoint ({@link SourceSweep#availableSteps},
 *     0 = base) when a validation search picks one. A builder left at {@code rlSteps} follows a changed {@code rlSteps}.
 * @param saeOptimizer Stage-I optimiser: SIGNUM (SignSGD + Schedule-Free, Resa's and sparsify's default) or ADAM
 *     (an ablation knob; the earlier miniature trained its SAEs with Adam at 1e-3).
 * @param saeLr Stage-I learning rate; 0 = sparsify's automatic 5e-3 / sqrt(n / 2^14) (0.04 at n = 256).
 * @param saeSteps SAE optimizer steps.
 * @param saeBatch activation rows per SAE step.
 * @param saeTexts CoT-free trigger texts whose activations train the SAE (packed into 64-token chunks, as sparsify packs).
 * @param tuneSteps Stage-II (SAE-Tuning) steps; also the step count of both SFT baselines.
 * @param tuneBatch texts per Stage-II / SFT step.
 * @param tuneLr LoRA learning rate of Stage II and SFT (5e-4 at scale 4, the 1e-3 at scale 2 under which KL converged within
 *     ~100 steps at this size).
 * @param testProblems held-out problems evaluated (never used for any choice).
 * @param samples samples per problem at T=0.6 for Pass@1 (greedy is scored on top).
 * @param maxNewTokens generation budget (the longest trace plus its answer fits).
 */
public record Preset(
    String name, ArithmeticTask.Config task, int hidden, int layers, int heads, int intermediate, int baseSteps, int baseBatch,
    double baseLr, double traceShare, int rlSteps, int rlPrompts, int rlGroup, double rlLr, double rlKl, double rlTemperature,
    int loraRank, double loraAlpha, int hookLayer, int saeLatents, int saeK, int saeSourceStep, SaeTrainer.Optimizer saeOptimizer, double saeLr,
    int saeSteps, int saeBatch, int saeTexts, int tuneSteps, int tuneBatch, double tuneLr, int testProblems, int samples,
    int maxNewTokens) {

  public Preset {
    if (saeSourceStep < 0 || saeSourceStep > rlSteps) throw new IllegalArgumentException("saeSourceStep " + saeSourceStep + " outside 0.." + rlSteps);
  }

  /** Named construction: {@code Preset.defaults().toBuilder().saeK(8).build()}. */
  public static final class Builder {
    private String name;
    private ArithmeticTask.Config task;
    private int hidden;
    private int layers;
    private int heads;
    private int intermediate;
    private int baseSteps;
    private int baseBatch;
    private double baseLr;
    private double traceShare;
    private int rlSteps;
    private int rlPrompts;
    private int rlGroup;
    private double rlLr;
    private double rlKl;
    private double rlTemperature;
    private int loraRank;
    private double loraAlpha;
    private int hookLayer;
    private int saeLatents;
    private int saeK;
    private Integer saeSourceStep; // null: rlSteps
    private SaeTrainer.Optimizer saeOptimizer;
    private double saeLr;
    private int saeSteps;
    private int saeBatch;
    private int saeTexts;
    private int tuneSteps;
    private int tuneBatch;
    private double tuneLr;
    private int testProblems;
    private int samples;
    private int maxNewTokens;

    public Builder name(String v) {
      this.name = v;
      return this;
    }

    public Builder task(ArithmeticTask.Config v) {
      this.task = v;
      return this;
    }

    public Builder hidden(int v) {
      this.hidden = v;
      return this;
    }

    public Builder layers(int v) {
      this.layers = v;
      return this;
    }

    public Builder heads(int v) {
      this.heads = v;
      return this;
    }

    public Builder intermediate(int v) {
      this.intermediate = v;
      return this;
    }

    public Builder baseSteps(int v) {
      this.baseSteps = v;
      return this;
    }

    public Builder baseBatch(int v) {
      this.baseBatch = v;
      return this;
    }

    public Builder baseLr(double v) {
      this.baseLr = v;
      return this;
    }

    public Builder traceShare(double v) {
      this.traceShare = v;
      return this;
    }

    public Builder rlSteps(int v) {
      this.rlSteps = v;
      return this;
    }

    public Builder rlPrompts(int v) {
      this.rlPrompts = v;
      return this;
    }

    public Builder rlGroup(int v) {
      this.rlGroup = v;
      return this;
    }

    public Builder rlLr(double v) {
      this.rlLr = v;
      return this;
    }

    public Builder rlKl(double v) {
      this.rlKl = v;
      return this;
    }

    public Builder rlTemperature(double v) {
      this.rlTemperature = v;
      return this;
    }

    public Builder loraRank(int v) {
      this.loraRank = v;
      return this;
    }

    public Builder loraAlpha(double v) {
      this.loraAlpha = v;
      return this;
    }

    public Builder hookLayer(int v) {
      this.hookLayer = v;
      return this;
    }

    public Builder saeLatents(int v) {
      this.saeLatents = v;
      return this;
    }

    public Builder saeK(int v) {
      this.saeK = v;
      return this;
    }

    public Builder saeSourceStep(int v) {
      this.saeSourceStep = v;
      return this;
    }

    public Builder saeOptimizer(SaeTrainer.Optimizer v) {
      this.saeOptimizer = v;
      return this;
    }

    public Builder saeLr(double v) {
      this.saeLr = v;
      return this;
    }

    public Builder saeSteps(int v) {
      this.saeSteps = v;
      return this;
    }

    public Builder saeBatch(int v) {
      this.saeBatch = v;
      return this;
    }

    public Builder saeTexts(int v) {
      this.saeTexts = v;
      return this;
    }

    public Builder tuneSteps(int v) {
      this.tuneSteps = v;
      return this;
    }

    public Builder tuneBatch(int v) {
      this.tuneBatch = v;
      return this;
    }

    public Builder tuneLr(double v) {
      this.tuneLr = v;
      return this;
    }

    public Builder testProblems(int v) {
      this.testProblems = v;
      return this;
    }

    public Builder samples(int v) {
      this.samples = v;
      return this;
    }

    public Builder maxNewTokens(int v) {
      this.maxNewTokens = v;
      return this;
    }

    public Preset build() {
      return new Preset(name, task, hidden, layers, heads, intermediate, baseSteps, baseBatch, baseLr, traceShare, rlSteps, rlPrompts, rlGroup, rlLr, rlKl, rlTemperature, loraRank, loraAlpha, hookLayer, saeLatents, saeK, saeSourceStep == null ? rlSteps : saeSourceStep, saeOptimizer, saeLr, saeSteps, saeBatch, saeTexts, tuneSteps, tuneBatch, tuneLr, testProblems, samples, maxNewTokens);
    }
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.name = name;
    b.task = task;
    b.hidden = hidden;
    b.layers = layers;
    b.heads = heads;
    b.intermediate = intermediate;
    b.baseSteps = baseSteps;
    b.baseBatch = baseBatch;
    b.baseLr = baseLr;
    b.traceShare = traceShare;
    b.rlSteps = rlSteps;
    b.rlPrompts = rlPrompts;
    b.rlGroup = rlGroup;
    b.rlLr = rlLr;
    b.rlKl = rlKl;
    b.rlTemperature = rlTemperature;
    b.loraRank = loraRank;
    b.loraAlpha = loraAlpha;
    b.hookLayer = hookLayer;
    b.saeLatents = saeLatents;
    b.saeK = saeK;
    b.saeSourceStep = saeSourceStep == rlSteps ? null : saeSourceStep;
    b.saeOptimizer = saeOptimizer;
    b.saeLr = saeLr;
    b.saeSteps = saeSteps;
    b.saeBatch = saeBatch;
    b.saeTexts = saeTexts;
    b.tuneSteps = tuneSteps;
    b.tuneBatch = tuneBatch;
    b.tuneLr = tuneLr;
    b.testProblems = testProblems;
    b.samples = samples;
    b.maxNewTokens = maxNewTokens;
    return b;
  }

  /**
   * Fits the 10-minute budget (about 5 CPU-minutes, two thirds of them the base): the base's traces are mostly
   * right while its direct answers stay near chance, so RL and SAE-Tuning have room to help.
   */
  public static Preset defaults() {
    return new Builder().name("default").task(ArithmeticTask.Config.defaults())
        .hidden(64).layers(4).heads(4).intermediate(128)
        .baseSteps(5000).baseBatch(16).baseLr(2e-3).traceShare(0.6)
        .rlSteps(24).rlPrompts(8).rlGroup(8).rlLr(1e-4).rlKl(0.05).rlTemperature(0.6)
        .loraRank(8).loraAlpha(32.0)
        .hookLayer(2).saeLatents(256).saeK(4).saeOptimizer(SaeTrainer.Optimizer.SIGNUM).saeLr(0)
        .saeSteps(300).saeBatch(1024).saeTexts(2000)
        .tuneSteps(100).tuneBatch(48).tuneLr(5e-4)
        .testProblems(200).samples(4).maxNewTokens(48)
        .build();
  }

  /**
   * The feasibility study's base (1400 steps of 128 on the 40/60 traced / answer-only mix): traces nearly always
   * right, direct answers about a quarter. About 15-20 minutes on 2 cores.
   */
  public static Preset longer() {
    return defaults().toBuilder().name("long").baseSteps(1400).baseBatch(128).traceShare(0.4).rlSteps(40).rlPrompts(16)
        .tuneSteps(150).tuneBatch(64).build();
  }

  public static Preset ci() {
    return defaults().toBuilder().name("ci").hidden(32).intermediate(64)
        .baseSteps(250).baseBatch(48).baseLr(3e-3).traceShare(0.4)
        .rlSteps(8).loraRank(4).loraAlpha(16.0)
        .saeLatents(128).saeSteps(150).saeBatch(512).saeTexts(600)
        .tuneSteps(40).tuneBatch(32).testProblems(60).samples(2)
        .build();
  }

  /** The preset a run directory was made with (its {@code preset.json}; after a Stage-II sweep, the swept values). */
  public static Preset ofRun(Path runDir) throws IOException {
    com.google.gson.JsonObject o = com.google.gson.JsonParser.parseString(Files.readString(runDir.resolve("preset.json"))).getAsJsonObject();
    if (!o.has("saeSourceStep")) o.addProperty("saeSourceStep", o.get("rlSteps").getAsInt()); // written before the field: the finished source
    return RunCache.GSON.fromJson(o, Preset.class);
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
