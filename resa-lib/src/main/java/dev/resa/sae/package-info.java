/**
 * Stage 2 of <b>model → activations → sae → tuning → eval</b>, Resa's Stage I: TopK sparse autoencoders in
 * sparsify's layout. {@link dev.resa.sae.SparseCoder} is the SAE ({@code wEnc}, {@code bEnc}, {@code wDec},
 * {@code bDec}), {@link dev.resa.sae.SaeTrainer} trains one per hook point with SignSGD + Schedule-Free
 * ({@link dev.resa.sae.ScheduleFreeSignSgd}) by default, {@link dev.resa.sae.SaeMetrics} measures FVU / L0 / dead
 * latents / spliced KL, {@link dev.resa.sae.ReasoningFeatures} and {@link dev.resa.sae.FeatureCards} say what
 * latents mean, and {@link dev.resa.sae.SparsifyFormat} / {@link dev.resa.sae.SaeLensExport} read and write them.
 */
package dev.resa.sae;
