/**
 * Stage 0 of the pipeline <b>model → activations → sae → tuning → eval</b>: the decoder language models everything
 * else runs on. {@link dev.resa.model.DecoderLM} is a Qwen2 / Llama decoder written on DJL NDArrays (shape comments
 * {@code [B, T, d]} throughout), with named {@link dev.resa.model.Hooks} where activations are read or replaced and
 * an {@link dev.resa.model.Adapter} slot where LoRA adds its update. Weights load from and save to Hugging Face
 * folders ({@link dev.resa.model.HfCheckpoint}) or llama2.c checkpoints; {@link dev.resa.model.Generator} decodes
 * with a {@link dev.resa.model.KvCache}.
 */
package dev.resa.model;
