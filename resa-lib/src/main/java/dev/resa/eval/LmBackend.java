package dev.resa.eval;

import dev.resa.model.DecoderLM;
import dev.resa.model.Generator;
import dev.resa.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A {@link DecoderLM} with its tokenizer. Prompts are encoded as they are (chat templates carry their own BOS
 * text); with {@code addBos} the tokenizer's BOS id is put first, as plain prompts for llama2.c models need.
 */
public final class LmBackend implements Backend {
  private final DecoderLM model;
  private final Tokenizer tokenizer;
  private final Set<Integer> stop = new HashSet<>();
  private final String name;
  private final boolean addBos;

  /** {@code stopStrings}: extra tokens that end a completion besides EOS (e.g. {@code <|im_end|>}). */
  public LmBackend(DecoderLM model, Tokenizer tokenizer, String name, boolean addBos, String... stopStrings) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.name = name;
    this.addBos = addBos;
    if (tokenizer.eosId() >= 0) stop.add(tokenizer.eosId());
    for (String s : stopStrings) tokenizer.tokenId(s).ifPresent(stop::add);
  }

  @Override
  public List<Completion> complete(List<String> prompts, Sampling s) {
    List<int[]> encoded = new ArrayList<>();
    for (String p : prompts) {
      int[] ids = tokenizer.encode(p);
      if (addBos && tokenizer.bosId() >= 0) {
        int[] withBos = new int[ids.length + 1];
        withBos[0] = tokenizer.bosId();
        System.arraycopy(ids, 0, withBos, 1, ids.length);
        ids = withBos;
      }
      encoded.add(ids);
    }
    List<int[]> generated = generate(encoded, s);
    List<Completion> out = new ArrayList<>();
    for (int[] g : generated) {
      int[] text = g.length > 0 && stop.contains(g[g.length - 1]) ? Arrays.copyOf(g, g.length - 1) : g;
      out.add(new Completion(tokenizer.decode(text), g.length));
    }
    return out;
  }

  /**
   * New token ids for each prompt, with this backend's stop tokens: all prompts of the call decode as one batch
   * (one forward per step for every unfinished row) and a row that stops leaves the batch, as
   * {@link Generator#generate} does. {@link #complete} runs on it.
   */
  public List<int[]> generate(List<int[]> prompts, Sampling s) {
    return new Generator(model).generate(prompts, new Generator.Sampling(s.maxNewTokens(), s.temperature(), s.topP(), stop, s.seed()));
  }

  @Override
  public String name() {
    return name;
  }
}
