/**
 * Stage 4 of <b>model → activations → sae → tuning → eval</b>: Pass@1 on the math and GPQA benchmarks.
 * {@link dev.resa.eval.Benchmark} reads the offline data into {@link dev.resa.eval.Problem}s,
 * {@link dev.resa.eval.Evaluator} runs any {@link dev.resa.eval.Backend} (a model through
 * {@link dev.resa.eval.LmBackend}, or a stand-in) resumably, and answers are extracted
 * ({@link dev.resa.eval.Answers}) and checked math-verify style ({@link dev.resa.eval.Equivalence} behind the
 * time-limited {@link dev.resa.eval.Grader}).
 */
package dev.resa.eval;
