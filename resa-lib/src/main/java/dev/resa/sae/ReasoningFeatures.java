package dev.resa.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.resa.activations.ActivationSource;
import dev.resa.model.DecoderLM;
import dev.resa.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeSet;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The paper's "reasoning features" (resa-algorithm §6.7): feed a prompt that contains {@code <think>} and
 * {@code </think>} through the model, encode each hooked layer's activations with its SAE, and keep the latents
 * that fire on every tag token and on no other prompt token. Counted per layer.
 *
 * <p>When the tokenizer has the tag as one token (R1-Distill) that token is the tag's position; otherwise the
 * tag is tokenized as text and its last token stands for it (the first position where the whole tag is seen).
 */
public final class ReasoningFeatures {
  public static final List<String> TAGS = List.of("<think>", "</think>");

  private ReasoningFeatures() {}

  /** Token ids of {@code prompt} and the positions of its tag tokens. */
  public record TaggedPrompt(int[] tokens, BitSet tagPositions) {}

  public static TaggedPrompt tokenize(String prompt, Tokenizer tok) {
    List<Integer> ids = new ArrayList<>();
    BitSet tags = new BitSet();
    if (tok.bosId() >= 0) ids.add(tok.bosId());
    int i = 0;
    while (i < prompt.length()) {
      int next = -1;
      String tag = null;
      for (String t : TAGS) {
        int at = prompt.indexOf(t, i);
        if (at >= 0 && (next < 0 || at < next)) {
          next = at;
          tag = t;
        }
      }
      String text = prompt.substring(i, next < 0 ? prompt.length() : next);
      for (int id : tok.encode(text)) ids.add(id);
      if (next < 0) break;
      OptionalInt single = tok.tokenId(tag);
      if (single.isPresent()) {
        ids.add(single.getAsInt());
      } else {
        for (int id : tok.encode(tag)) ids.add(id);
      }
      tags.set(ids.size() - 1);
      i = next + tag.length();
    }
    if (tags.isEmpty()) throw new IllegalArgumentException("the prompt contains neither <think> nor </think>");
    return new TaggedPrompt(ids.stream().mapToInt(Integer::intValue).toArray(), tags);
  }

  /**
   * One hook point's latents on one prompt.
   *
   * @param reasoning latents active on every tag position and on no other position (the paper's reasoning features).
   * @param tagOnly latents active on at least one tag position and on no other position (includes {@code reasoning}).
   * @param tagTokens how many tag positions the prompt has.
   */
  public record Found(TreeSet<Integer> reasoning, TreeSet<Integer> tagOnly, int tagTokens) {}

  /** Per hook point (in {@code saes} order), the reasoning and tag-only latents of {@code prompt}. */
  public static Map<String, Found> find(DecoderLM model, Tokenizer tok, Map<String, SparseCoder> saes, String prompt) {
    TaggedPrompt tp = tokenize(prompt, tok);
    ActivationSource src = new ActivationSource(model, new ArrayList<>(saes.keySet()));
    for (var e : saes.entrySet()) SparsifyFormat.requireFits(e.getValue().config(), model.config(), e.getKey());
    Map<String, Found> out = new LinkedHashMap<>();
    try (NDManager m = model.manager().newSubManager()) {
      Map<String, NDArray> acts = src.capture(List.of(java.util.Arrays.stream(tp.tokens()).asLongStream().toArray()), m);
      for (var e : saes.entrySet()) {
        NDArray x = acts.get(e.getKey()); // [T, D]
        out.put(e.getKey(), new Found(exclusive(e.getValue(), x, tp.tagPositions(), true), exclusive(e.getValue(), x, tp.tagPositions(), false),
            tp.tagPositions().cardinality()));
      }
    }
    return out;
  }

  /**
   * {@link #find} as a Tablesaw table, one row per hook point: {@code reasoning_features} and {@code latents} (latents
   * that fire on every tag position and on no other position), {@code tag_tokens}, and the weaker {@code tag_only}
   * count with {@code tag_only_latents} (latents that fire on at least one tag position and on no other position), which
   * small models with few latents show even when no latent covers both tags.
   */
  public static Table count(DecoderLM model, Tokenizer tok, Map<String, SparseCoder> saes, String prompt) {
    StringColumn hook = StringColumn.create("hook");
    IntColumn count = IntColumn.create("reasoning_features");
    StringColumn latents = StringColumn.create("latents");
    IntColumn positions = IntColumn.create("tag_tokens");
    IntColumn tagOnly = IntColumn.create("tag_only");
    StringColumn tagOnlyLatents = StringColumn.create("tag_only_latents");
    for (var e : find(model, tok, saes, prompt).entrySet()) {
      Found f = e.getValue();
      hook.append(e.getKey());
      count.append(f.reasoning().size());
      latents.append(f.reasoning().toString());
      positions.append(f.tagTokens());
      tagOnly.append(f.tagOnly().size());
      tagOnlyLatents.append(f.tagOnly().toString());
    }
    return Table.create("reasoning features", hook, count, latents, positions, tagOnly, tagOnlyLatents);
  }

  /** Latents active (value > 0 in the top-k) at every position in {@code tags} and at no other position. */
  static TreeSet<Integer> exclusive(SparseCoder sae, NDArray x, BitSet tags) {
    return exclusive(sae, x, tags, true);
  }

  /**
   * Latents active at no position outside {@code tags} and, inside, at every tag position ({@code everyTag}) or at
   * one at least.
   */
  static TreeSet<Integer> exclusive(SparseCoder sae, NDArray x, BitSet tags, boolean everyTag) {
    int k = sae.config().k();
    SparseCoder.TopK top;
    float[] vals;
    long[] idx;
    try (NDManager s = sae.manager().newSubManager()) {
      for (NDArray p : sae.parameters()) p.tempAttach(s);
      top = sae.encode(x);
      vals = top.values().toFloatArray();
      idx = top.indices().toLongArray();
    }
    int tokens = vals.length / k;
    int[] onTags = new int[sae.config().numLatents()];
    BitSet elsewhere = new BitSet();
    for (int t = 0; t < tokens; t++) {
      for (int j = 0; j < k; j++) {
        if (vals[t * k + j] <= 0) continue;
        int latent = (int) idx[t * k + j];
        if (tags.get(t)) onTags[latent]++;
        else elsewhere.set(latent);
      }
    }
    TreeSet<Integer> out = new TreeSet<>();
    int needed = everyTag ? tags.cardinality() : 1;
    for (int l = 0; l < onTags.length; l++) if (onTags[l] >= needed && !elsewhere.get(l)) out.add(l);
    return out;
  }
}
