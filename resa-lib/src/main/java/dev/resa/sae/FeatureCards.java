package dev.resa.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.resa.activations.ActivationSource;
import dev.resa.model.DecoderLM;
import dev.resa.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * What one latent means: its top-activating contexts over a corpus and its direct logit attribution
 * ({@code W_U · W_dec[latent]}, the tokens its decoder direction promotes and suppresses).
 */
public final class FeatureCards {
  private FeatureCards() {}

  /** One activating token: the activation, where it is, and the text up to it with the token in [[ ]]. */
  public record Context(double activation, int chunk, int position, String text) {}

  public record Card(int latent, List<Context> topContexts, List<String> promotedTokens, List<String> suppressedTokens) {}

  public static Card card(DecoderLM model, Tokenizer tok, String hook, SparseCoder sae, int latent, List<long[]> chunks, int topN, int window) {
    if (latent < 0 || latent >= sae.config().numLatents()) {
      throw new IllegalArgumentException("latent " + latent + " out of range 0.." + (sae.config().numLatents() - 1));
    }
    SparsifyFormat.requireFits(sae.config(), model.config(), hook);
    ActivationSource src = new ActivationSource(model, List.of(hook));
    PriorityQueue<Context> best = new PriorityQueue<>(Comparator.comparingDouble(Context::activation));
    int k = sae.config().k();
    for (int c = 0; c < chunks.size(); c++) {
      try (NDManager m = model.manager().newSubManager()) {
        NDArray x = src.capture(List.of(chunks.get(c)), m).get(hook);
        float[] vals;
        long[] idx;
        try (NDManager s = sae.manager().newSubManager()) {
          for (NDArray p : sae.parameters()) p.tempAttach(s);
          SparseCoder.TopK top = sae.encode(x);
          vals = top.values().toFloatArray();
          idx = top.indices().toLongArray();
        }
        for (int i = 0; i < idx.length; i++) {
          if (idx[i] != latent || vals[i] <= 0) continue;
          int pos = i / k;
          if (best.size() < topN || vals[i] > best.peek().activation()) {
            int[] ch = java.util.Arrays.stream(chunks.get(c)).mapToInt(v -> (int) v).toArray();
            String before = tok.decode(Arrays.copyOfRange(ch, Math.max(0, pos - window), pos));
            String at = tok.decode(new int[] {ch[pos]});
            best.add(new Context(vals[i], c, pos, before + "[[" + at + "]]"));
            if (best.size() > topN) best.poll();
          }
        }
      }
    }
    List<Context> top = new ArrayList<>(best);
    top.sort(Comparator.comparingDouble(Context::activation).reversed());
    List<String> promoted = new ArrayList<>();
    List<String> suppressed = new ArrayList<>();
    try (NDManager s = sae.manager().newSubManager()) {
      for (NDArray p : sae.parameters()) p.tempAttach(s);
      NDArray dir = sae.wDec().stopGradient().get(latent); // [d]
      String head = model.config().tieEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
      NDArray wU = model.weights().get(head);
      NDArray logits = wU.matMul(dir.toType(wU.getDataType(), false).expandDims(-1)).squeeze(-1); // [V]
      logits.attach(s);
      long[] order = logits.argSort(0, false).toLongArray();
      for (int i = 0; i < Math.min(10, order.length); i++) promoted.add(tok.decode(new int[] {(int) order[i]}));
      for (int i = 0; i < Math.min(10, order.length); i++) suppressed.add(tok.decode(new int[] {(int) order[order.length - 1 - i]}));
    }
    return new Card(latent, top, promoted, suppressed);
  }
}
