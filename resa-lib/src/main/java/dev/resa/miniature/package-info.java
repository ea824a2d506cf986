/**
 * The paper in miniature, end to end on a tiny Qwen2 and the arithmetic task ({@code dev.resa.task}): the whole
 * <b>model → activations → sae → tuning → eval</b> pipeline trained in-process and cached stage by stage under
 * {@code runs/}, with a report that compares the paper's models ({@code ./resa miniature}; the notebooks read its runs).
 */
package dev.resa.miniature;
