/**
 * Stage 3 of <b>model → activations → sae → tuning → eval</b>, Resa's Stage II and its baselines, all with LoRA
 * ({@link dev.resa.tuning.Lora}, saved in PEFT's layout by {@link dev.resa.tuning.PeftFormat}).
 * {@link dev.resa.tuning.SaeTuning} splices a frozen SAE into the model ({@link dev.resa.tuning.Splice}) and trains
 * the adapter so the spliced model matches the original; {@link dev.resa.tuning.Sft} and {@link dev.resa.tuning.Grpo}
 * are the SFT and RL baselines of the paper's Table 3. All three are objectives on the one LoRA training loop,
 * {@link dev.resa.tuning.LoraTrainer} (schedule, clipping, AdamW, log, atomic checkpoints, resume, interrupt).
 * {@link dev.resa.tuning.MergedModel} folds an adapter into any base of the same shape, and
 * {@link dev.resa.tuning.UpdateGeometry} compares two adapters' weight updates.
 */
package dev.resa.tuning;
