/**
 * The paper in miniature, end to end on a tiny Qwen2 and the arithmetic task: the whole
 * <b>model → activations → sae → tuning → eval</b> pipeline composed from the library's stage functions and cached
 * stage by stage under {@code runs/} ({@code ./resa miniature} and the notebooks).
 */
package dev.resa.miniature;
