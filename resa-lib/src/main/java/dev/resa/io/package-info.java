/**
 * File formats shared by every stage of <b>model → activations → sae → tuning → eval</b>: safetensors read
 * memory-mapped and validated, with errors that name the file and tensor ({@link dev.resa.io.SafeTensors}), and
 * atomic writes so a crash never leaves half a checkpoint ({@link dev.resa.io.AtomicFiles}).
 */
package dev.resa.io;
