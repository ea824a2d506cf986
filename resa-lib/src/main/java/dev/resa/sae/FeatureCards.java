package dev.resa.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.resa.activations.ActivationSource;
import dev.resa.model.DecoderLM;
import dev.resa.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    return cards(model, tok, hook, sae, new int[] {latent}, chunks, topN, window).get(0);
  }

  /**
   * The cards of several latents from one pass over {@code chunks} (one model forward per chunk, whatever the number
   * of latents), in the order of {@code latents}.
   */
  public static List<Card> cards(DecoderLM model, Tokenizer tok, String hook, SparseCoder sae, int[] latents, List<long[]> chunks, int topN,
      int window) {
    Map<Integer, PriorityQueue<Context>> best = new LinkedHashMap<>();
    for (int latent : latents) {
      if (latent < 0 || latent >= sae.config().numLatents()) {
        throw new IllegalArgumentException("latent " + latent + " out of range 0.." + (sae.config().numLatents() - 1));
      }
      best.put(latent, new PriorityQueue<>(Comparator.comparingDouble(Context::activation)));
    }
    SparsifyFormat.requireFits(sae.config(), model.config(), hook);
    ActivationSource src = new ActivationSource(model, List.of(hook));
    int k = sae.config().k();
    for (int c = 0; c < chunks.size(); c++) {
      float[] vals;
      long[] idx;
      try (NDManager m = model.manager().newSubManager()) {
        NDArray x = src.capture(List.of(chunks.get(c)), m).get(hook); // [T, d]
        try (NDManager s = sae.manager().newSubManager()) {
          for (NDArray p : sae.parameters()) p.tempAttach(s);
          SparseCoder.TopK top = sae.encode(x); // [T, k] each
          vals = top.values().toFloatArray();
          idx = top.indices().toLongArray();
        }
      }
      for (int i = 0; i < idx.length; i++) {
        PriorityQueue<Context> q = best.get((int) idx[i]);
        if (q == null || vals[i] <= 0 || (q.size() >= topN && vals[i] <= q.peek().activation())) continue;
        int pos = i / k;
        long[] chunk = chunks.get(c);
        int[] before = new int[pos - Math.max(0, pos - window)];
        for (int j = 0; j < before.length; j++) before[j] = (int) chunk[pos - before.length + j];
        q.add(new Context(vals[i], c, pos, tok.decode(before) + "[[" + tok.decode(new int[] {(int) chunk[pos]}) + "]]"));
        if (q.size() > topN) q.poll();
      }
    }
    List<Card> out = new ArrayList<>();
    for (int latent : latents) {
      List<Context> top = new ArrayList<>(best.get(latent));
      top.sort(Comparator.comparingDouble(Context::activation).reversed());
      out.add(attribution(model, tok, sae, latent, top));
    }
    return out;
  }

  /** The card of {@code latent}: its contexts plus the ten tokens its decoder direction promotes and suppresses most. */
  private static Card attribution(DecoderLM model, Tokenizer tok, SparseCoder sae, int latent, List<Context> top) {
    List<String> promoted = new ArrayList<>();
    List<String> suppressed = new ArrayList<>();
    try (NDManager s = sae.manager().newSubManager()) {
      for (NDArray p : sae.parameters()) p.tempAttach(s);
      NDArray dir = sae.wDec().stopGradient().get(latent); // [d]
      String head = model.config().tieEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
      NDArray wU = model.weights().get(head); // [V, d]
      NDArray logits = wU.matMul(dir.toType(wU.getDataType(), false).expandDims(-1)).squeeze(-1); // [V]
      logits.attach(s);
      long[] order = logits.argSort(0, false).toLongArray();
      for (int i = 0; i < Math.min(10, order.length); i++) promoted.add(tok.decode(new int[] {(int) order[i]}));
      for (int i = 0; i < Math.min(10, order.length); i++) suppressed.add(tok.decode(new int[] {(int) order[order.length - 1 - i]}));
    }
    return new Card(latent, top, promoted, suppressed);
  }
}
