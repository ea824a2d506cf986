package dev.resa.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.resa.model.DecoderLM;
import dev.resa.model.Hooks;
import dev.resa.train.Losses;
import dev.resa.train.Progress;
import java.util.Iterator;
import java.util.List;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Quality of a trained SAE. Reconstruction metrics over activation batches (FVU, explained variance, L0, dead %,
 * feature density) and spliced metrics that run the model with the SAE's reconstruction in place of the
 * activation: KL(original ‖ spliced) and SAELens' CE-loss score against zero-ablation.
 */
public final class SaeMetrics {
  private SaeMetrics() {}

  /**
   * @param fvu Σ(x − x̂)² / Σ(x − mean)² over all tokens (the training loss, on held-out data).
   * @param explainedVariance 1 − fvu.
   * @param l0 mean number of non-zero latents per token (≤ k).
   * @param deadPct fraction of latents that never fired on these tokens.
   * @param density per-latent firing frequency (fraction of tokens).
   */
  public record Reconstruction(long tokens, double fvu, double explainedVariance, double l0, double deadPct, double[] density) {}

  /** Reconstruction metrics of {@code sae} over activation batches [N, d] (each closed after use). */
  public static Reconstruction reconstruction(SparseCoder sae, Iterator<NDArray> batches) {
    int d = sae.config().dIn();
    int n = sae.config().numLatents();
    double[] sum = new double[d];
    double[] sumSq = new double[d];
    double sse = 0;
    double active = 0;
    long tokens = 0;
    long[] fired = new long[n];
    while (batches.hasNext()) {
      NDArray x = batches.next();
      try (NDManager scope = sae.manager().newSubManager()) {
        x.tempAttach(scope);
        for (NDArray p : sae.parameters()) p.tempAttach(scope);
        SparseCoder.TopK top = sae.encode(x);
        NDArray xHat = sae.decode(top.values(), top.indices()); // [N, d]
        sse += SaeTrainer.scalar(x.sub(xHat).square().sum());
        double[] s = x.sum(new int[] {0}).toType(DataType.FLOAT64, false).toDoubleArray();
        double[] q = x.square().sum(new int[] {0}).toType(DataType.FLOAT64, false).toDoubleArray();
        for (int j = 0; j < d; j++) {
          sum[j] += s[j];
          sumSq[j] += q[j];
        }
        float[] vals = top.values().toFloatArray();
        long[] idx = top.indices().toLongArray();
        for (int i = 0; i < idx.length; i++) {
          if (vals[i] > 0) {
            fired[(int) idx[i]]++;
            active++;
          }
        }
        tokens += x.getShape().get(0);
      } finally {
        x.close();
      }
    }
    if (tokens == 0) throw new IllegalArgumentException("no activations to evaluate");
    double tv = 0;
    for (int j = 0; j < d; j++) tv += sumSq[j] - sum[j] * sum[j] / tokens;
    double[] density = new double[n];
    int dead = 0;
    for (int j = 0; j < n; j++) {
      density[j] = fired[j] / (double) tokens;
      if (fired[j] == 0) dead++;
    }
    double fvu = sse / tv;
    return new Reconstruction(tokens, fvu, 1 - fvu, active / tokens, dead / (double) n, density);
  }

  /** Histogram of log10 feature density in half-decade bins, plus a "never fired" row (bin = -inf). */
  public static Table densityHistogram(double[] density) {
    int bins = 16; // [-8, 0] in steps of 0.5
    int[] counts = new int[bins];
    int never = 0;
    for (double p : density) {
      if (p <= 0) {
        never++;
        continue;
      }
      int b = (int) Math.floor((Math.log10(p) + 8) / 0.5);
      counts[Math.max(0, Math.min(bins - 1, b))]++;
    }
    StringColumn bin = StringColumn.create("log10_density");
    IntColumn latents = IntColumn.create("latents");
    bin.append("never");
    latents.append(never);
    for (int b = 0; b < bins; b++) {
      bin.append(String.format("[%.1f, %.1f)", -8 + 0.5 * b, -7.5 + 0.5 * b));
      latents.append(counts[b]);
    }
    return Table.create("feature density", bin, latents);
  }

  /**
   * @param kl mean over tokens of KL(p_original ‖ p_spliced) in nats.
   * @param ceLossScore SAELens' {@code ce_loss_score}: (ce_zero − ce_spliced) / (ce_zero − ce_original); 1 is perfect.
   */
  public record Spliced(long tokens, double kl, double ceOriginal, double ceSpliced, double ceZeroAblated, double ceLossScore) {}

  /**
   * Runs {@code model} over {@code chunks} three ways — unchanged, with {@code sae}'s reconstruction spliced in at
   * {@code hook} (no gradient, as in Stage II), and with the activation zero-ablated — and compares next-token
   * cross-entropy and the output distributions.
   */
  public static Spliced spliced(DecoderLM model, String hook, SparseCoder sae, List<long[]> chunks, int seqsPerBatch) {
    SparsifyFormat.requireFits(sae.config(), model.config(), hook);
    double kl = 0;
    double ceO = 0;
    double ceS = 0;
    double ceZ = 0;
    long tokens = 0;
    try (Progress.Bar bar = Progress.start("spliced metrics", (chunks.size() + seqsPerBatch - 1) / seqsPerBatch)) {
      for (int b = 0; b < chunks.size(); b += seqsPerBatch) {
        Progress.checkInterrupted();
        List<long[]> part = chunks.subList(b, Math.min(chunks.size(), b + seqsPerBatch));
        int t = part.get(0).length;
        long[] flat = new long[part.size() * t];
        for (int i = 0; i < part.size(); i++) System.arraycopy(part.get(i), 0, flat, i * t, t);
        try (NDManager step = model.stepScope()) {
          NDArray tok = step.create(flat, new Shape(part.size(), t)); // [B, T]
          NDArray inputs = tok.get(":, :-1");
          NDArray targets = tok.get(":, 1:");
          NDArray lo = model.forward(inputs, new DecoderLM.Options()).logits(); // [B, T-1, V]
          NDArray ls = model.forward(inputs, new DecoderLM.Options().hooks(Hooks.create().replace(hook, sae::reconstruct, true))).logits();
          NDArray lz = model.forward(inputs, new DecoderLM.Options().hooks(Hooks.create().replace(hook, NDArray::zerosLike, true))).logits();
          long n = (long) part.size() * (t - 1);
          NDArray logP = lo.logSoftmax(-1);
          NDArray logQ = ls.logSoftmax(-1);
          kl += SaeTrainer.scalar(logP.exp().mul(logP.sub(logQ)).sum(new int[] {-1}).sum());
          ceO += n * SaeTrainer.scalar(Losses.crossEntropy(lo, targets, null));
          ceS += n * SaeTrainer.scalar(Losses.crossEntropy(ls, targets, null));
          ceZ += n * SaeTrainer.scalar(Losses.crossEntropy(lz, targets, null));
          tokens += n;
        }
        bar.update(b / seqsPerBatch + 1, java.util.Map.of("tokens", (double) tokens));
      }
    }
    double o = ceO / tokens;
    double s = ceS / tokens;
    double z = ceZ / tokens;
    return new Spliced(tokens, kl / tokens, o, s, z, (z - s) / (z - o));
  }

  /** One row per metric, for notebooks and the CLI. */
  public static Table summary(String hook, Reconstruction r, Spliced s) {
    StringColumn name = StringColumn.create("metric");
    DoubleColumn value = DoubleColumn.create("value");
    Object[][] rows = {
      {"tokens", (double) r.tokens()}, {"fvu", r.fvu()}, {"explained_variance", r.explainedVariance()}, {"l0", r.l0()},
      {"dead_pct", 100 * r.deadPct()}
    };
    for (Object[] row : rows) {
      name.append((String) row[0]);
      value.append((Double) row[1]);
    }
    if (s != null) {
      Object[][] more = {
        {"kl_original_vs_spliced", s.kl()}, {"ce_original", s.ceOriginal()}, {"ce_spliced", s.ceSpliced()},
        {"ce_zero_ablated", s.ceZeroAblated()}, {"ce_loss_score", s.ceLossScore()}
      };
      for (Object[] row : more) {
        name.append((String) row[0]);
        value.append((Double) row[1]);
      }
    }
    return Table.create("SAE metrics " + hook, name, value);
  }
}
