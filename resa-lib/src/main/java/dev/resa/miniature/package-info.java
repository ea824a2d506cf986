/**
 * The paper in miniature, end to end on a tiny Qwen2 and the arithmetic task ({@code dev.resa.task}): the whole
 * <b>model → activations → sae → tuning → eval</b> pipeline composed from the library's stage calls
 * ({@link dev.resa.miniature.Stages}), each cached by its config and inputs ({@link dev.resa.miniature.RunCache}),
 * with a report that compares the paper's models ({@code ./resa miniature}; the notebooks read its runs).
 */
package dev.resa.miniature;
