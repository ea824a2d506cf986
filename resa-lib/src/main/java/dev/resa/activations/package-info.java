/**
 * Stage 1 of <b>model → activations → sae → tuning → eval</b>: turning text into the activations an SAE is trained
 * on. {@link dev.resa.activations.TriggerData} formats problem/answer records with Resa's
 * {@link dev.resa.activations.TriggerTemplate}, {@link dev.resa.activations.Packing} cuts documents into fixed-length
 * chunks as sparsify does, {@link dev.resa.activations.ActivationSource} runs the model once per batch up to the
 * deepest hook point, and {@link dev.resa.activations.ActivationCache} keeps those rows on disk so many SAE runs share
 * one model pass.
 */
package dev.resa.activations;
