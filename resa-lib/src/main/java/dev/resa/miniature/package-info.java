/**
 * The paper in miniature, end to end on a tiny Qwen2 and the arithmetic task ({@code dev.resa.task}): the whole
 * <b>model → activations → sae → tuning → eval</b> pipeline composed from the library's stage calls
 * ({@link dev.resa.miniature.Stages}), each cached by its config and inputs ({@link dev.resa.miniature.RunCache}),
 * with a report that compares the paper's models ({@code ./resa miniature}; the notebooks read its runs).
 *
 * <p>Side experiments on a finished run, cached under {@code <run>/experiments/}: Table 4's source sweep
 * ({@link dev.resa.miniature.Experiments#sourceSweep}), Table 5's modularity
 * ({@link dev.resa.miniature.Experiments#modularity}), Table 6's layer sweep with intervals
 * ({@link dev.resa.miniature.Experiments#layerSweep}), Figure 3's reasoning features for base and source
 * ({@link dev.resa.miniature.Experiments#reasoningFeatures}) and, beyond the paper, the geometry of the Stage-II update
 * against the RL update ({@link dev.resa.miniature.Experiments#updateGeometry}).
 */
package dev.resa.miniature;
