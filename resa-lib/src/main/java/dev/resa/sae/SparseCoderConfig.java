package dev.resa.sae;

/**
 * Shape and behaviour of a TopK sparse coder, mirroring sparsify's {@code SparseCoderConfig} plus {@code d_in}
 * (the fields written to {@code cfg.json}).
 *
 * @param dIn input width d: the model's hidden size at the hook point (1536 for R1-Distill-1.5B).
 * @param numLatents number of latents n (Resa: 65536; sparsify derives it from {@code expansion_factor} when 0).
 * @param k active latents per token (Resa and sparsify default: 32).
 * @param normalizeDecoder keep {@code W_dec} rows at unit norm during training (sparsify default and Resa: true).
 */
public record SparseCoderConfig(int dIn, int numLatents, int k, boolean normalizeDecoder) {
  public SparseCoderConfig {
    if (dIn <= 0) throw new IllegalArgumentException("d_in must be positive, got " + dIn);
    if (numLatents <= 0) throw new IllegalArgumentException("num_latents must be positive, got " + numLatents);
    if (k <= 0 || k > numLatents) {
      throw new IllegalArgumentException("k must be in 1..num_latents (" + numLatents + "), got " + k);
    }
  }

  /** Resa's shape at width d: n latents, top-k, normalised decoder. */
  public static SparseCoderConfig of(int dIn, int numLatents, int k) {
    return new SparseCoderConfig(dIn, numLatents, k, true);
  }

  /** Parameter count 2nd + n + d. */
  public long parameterCount() {
    return 2L * numLatents * dIn + numLatents + dIn;
  }

  /** Training FLOP per token of the sparse-aware step (anchors §4.2): 2dn + 8kd. */
  public double trainFlopsPerToken() {
    return 2.0 * dIn * numLatents + 8.0 * k * dIn;
  }
}
