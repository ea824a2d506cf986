/**
 * Training machinery shared by the stages of <b>model → activations → sae → tuning → eval</b>: AdamW as PyTorch
 * implements it, gradient clipping, losses, learning-rate schedules, batches as functions of the step (so resumed
 * runs equal uninterrupted ones), the one training-log table ({@link dev.resa.train.TrainLog}), the non-finite guard
 * every trainer calls before its update ({@link dev.resa.train.NonFiniteException}), progress displays that can be
 * interrupted ({@link dev.resa.train.Progress}), and {@link dev.resa.train.LmTrainer}, which trains a small decoder
 * from scratch (the miniature's base model, {@code ./resa train-lm}).
 */
package dev.resa.train;
