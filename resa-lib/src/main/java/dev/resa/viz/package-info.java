/**
 * At the edge of the pipeline: showing results. Tablesaw figures for losses, FVU, KL and feature activations
 * ({@link dev.resa.viz.Plots}), offline plotly.js pages, and the renderer registry the Jupyter kernel asks to display
 * any value ({@link dev.resa.viz.Rendering}, extended through {@link dev.resa.viz.DisplayRenderer}).
 */
package dev.resa.viz;
