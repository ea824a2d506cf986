/**
 * At the edge of the pipeline: the Java Jupyter kernel the notebooks run on. {@link dev.resa.kernel.ResaKernel}
 * speaks the Jupyter protocol (jjava), runs cells in JShell in this JVM, renders values through resa-lib's
 * {@code dev.resa.viz} registry and shows training progress in place, so a notebook calls the
 * <b>model → activations → sae → tuning → eval</b> stages of the library directly.
 */
package dev.resa.kernel;
