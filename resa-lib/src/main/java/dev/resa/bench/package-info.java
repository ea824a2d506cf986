/**
 * At the edge of the pipeline: {@code ./resa bench NAME}, speed and memory measurements kept out of the unit tests,
 * each printing ratios against a reference run in the same process or script. Benches with a PyTorch counterpart
 * (decoder LM, SAE training) run it through the one {@link dev.resa.bench.TorchReference}: Debian's python3-torch,
 * an independent implementation that is never part of the product and is never installed from here.
 */
package dev.resa.bench;
