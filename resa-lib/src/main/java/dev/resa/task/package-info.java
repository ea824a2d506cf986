/**
 * Synthetic data for the miniature: {@link dev.resa.task.ArithmeticTask} makes multi-step arithmetic problems with and
 * without a reasoning trace, small enough that the whole <b>model → activations → sae → tuning → eval</b> pipeline
 * runs on a laptop in minutes.
 */
package dev.resa.task;
