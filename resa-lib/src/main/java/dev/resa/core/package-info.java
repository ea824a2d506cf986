/**
 * Shared plumbing below every stage of <b>model → activations → sae → tuning → eval</b>: DJL engine setup and
 * managers ({@link dev.resa.core.Djl}), autograd-safe scalar operands ({@link dev.resa.core.Scalars}), native memory
 * reuse ({@link dev.resa.core.NativeHeap}) and where the offline data lives ({@link dev.resa.core.DataDir}).
 */
package dev.resa.core;
