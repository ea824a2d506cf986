package dev.resa.model;

import java.util.Map;

/**
 * The decoder written the slow, obvious way: plain loops over doubles, one token and one head at a time,
 * RoPE angles recomputed from the definition. Used only to check {@link DecoderLM}.
 */
final class ReferenceDecoder {
  private final ModelConfig c;
  private final Map<String, double[]> w;

  ReferenceDecoder(ModelConfig c, Map<String, double[]> w) {
    this.c = c;
    this.w = w;
  }

  /** Logits [T][V] for one row of tokens. */
  double[][] logits(int[] tokens) {
    int t = tokens.length, d = c.hiddenSize(), v = c.vocabSize();
    double[][] h = new double[t][d];
    double[] emb = w.get("model.embed_tokens.weight");
    for (int i = 0; i < t; i++) System.arraycopy(emb, tokens[i] * d, h[i], 0, d);
    for (int l = 0; l < c.numLayers(); l++) {
      String p = "model.layers." + l + ".";
      double[][] x = new double[t][];
      for (int i = 0; i < t; i++) x[i] = rmsNorm(h[i], w.get(p + "input_layernorm.weight"));
      double[][] a = attention(p + "self_attn.", x);
      for (int i = 0; i < t; i++) for (int j = 0; j < d; j++) h[i][j] += a[i][j];
      for (int i = 0; i < t; i++) {
        double[] y = rmsNorm(h[i], w.get(p + "post_attention_layernorm.weight"));
        double[] gate = matVec(w.get(p + "mlp.gate_proj.weight"), null, y, c.intermediateSize());
        double[] up = matVec(w.get(p + "mlp.up_proj.weight"), null, y, c.intermediateSize());
        double[] act = new double[gate.length];
        for (int k = 0; k < act.length; k++) act[k] = gate[k] / (1 + Math.exp(-gate[k])) * up[k];
        double[] m = matVec(w.get(p + "mlp.down_proj.weight"), null, act, d);
        for (int j = 0; j < d; j++) h[i][j] += m[j];
      }
    }
    double[] head = c.tieEmbeddings() ? emb : w.get("lm_head.weight");
    double[][] out = new double[t][];
    for (int i = 0; i < t; i++) out[i] = matVec(head, null, rmsNorm(h[i], w.get("model.norm.weight")), v);
    return out;
  }

  private double[][] attention(String p, double[][] x) {
    int t = x.length, heads = c.numHeads(), e = c.headDim(), group = heads / c.numKvHeads();
    double[][] q = new double[t][], k = new double[t][], val = new double[t][];
    for (int i = 0; i < t; i++) {
      q[i] = matVec(w.get(p + "q_proj.weight"), w.get(p + "q_proj.bias"), x[i], heads * e);
      k[i] = matVec(w.get(p + "k_proj.weight"), w.get(p + "k_proj.bias"), x[i], c.numKvHeads() * e);
      val[i] = matVec(w.get(p + "v_proj.weight"), w.get(p + "v_proj.bias"), x[i], c.numKvHeads() * e);
      for (int hh = 0; hh < heads; hh++) rotate(q[i], hh * e, i);
      for (int hh = 0; hh < c.numKvHeads(); hh++) rotate(k[i], hh * e, i);
    }
    double[][] out = new double[t][heads * e];
    for (int hh = 0; hh < heads; hh++) {
      int kv = hh / group;
      for (int i = 0; i < t; i++) {
        double[] s = new double[i + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= i; j++) { // causal: keys 0..i
          double dot = 0;
          for (int z = 0; z < e; z++) dot += q[i][hh * e + z] * k[j][kv * e + z];
          s[j] = dot / Math.sqrt(e);
          max = Math.max(max, s[j]);
        }
        double sum = 0;
        for (int j = 0; j <= i; j++) sum += (s[j] = Math.exp(s[j] - max));
        for (int j = 0; j <= i; j++) {
          for (int z = 0; z < e; z++) out[i][hh * e + z] += s[j] / sum * val[j][kv * e + z];
        }
      }
    }
    double[][] o = new double[t][];
    for (int i = 0; i < t; i++) o[i] = matVec(w.get(p + "o_proj.weight"), null, out[i], c.hiddenSize());
    return o;
  }

  /** Rotates head {@code [off, off + E)} of {@code v} to position {@code pos}. */
  void rotate(double[] v, int off, int pos) {
    int e = c.headDim();
    for (int i = 0; i < e / 2; i++) {
      double angle = pos * Math.pow(c.ropeTheta(), -2.0 * i / e);
      int a, b; // the two coordinates of pair i
      if (c.rope() == ModelConfig.Rope.HALF) {
        a = off + i;
        b = off + i + e / 2;
      } else {
        a = off + 2 * i;
        b = off + 2 * i + 1;
      }
      double x = v[a], y = v[b];
      v[a] = x * Math.cos(angle) - y * Math.sin(angle);
      v[b] = x * Math.sin(angle) + y * Math.cos(angle);
    }
  }

  private double[] rmsNorm(double[] x, double[] g) {
    double ms = 0;
    for (double xi : x) ms += xi * xi;
    double r = Math.sqrt(ms / x.length + c.rmsEps());
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) y[i] = x[i] / r * g[i];
    return y;
  }

  /** W x + b for W stored [rows, x.length] row-major. */
  private static double[] matVec(double[] wt, double[] b, double[] x, int rows) {
    double[] y = new double[rows];
    for (int r = 0; r < rows; r++) {
      double s = b == null ? 0 : b[r];
      for (int j = 0; j < x.length; j++) s += wt[r * x.length + j] * x[j];
      y[r] = s;
    }
    return y;
  }
}
