package dev.resa.miniature;

import ai.djl.ndarray.NDManager;
import dev.resa.miniature.Miniature.Model;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.sae.ReasoningFeatures;
import dev.resa.sae.SparseCoder;
import dev.resa.sae.SparsifyFormat;
import dev.resa.task.ArithmeticTask;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

/**
 * Figure 3 / Table 6's "Cnt" in miniature, for base and source side by side: per layer, how many SAE latents are
 * reasoning features (active on both {@code <think>} and {@code </think>} and on no other token, {@link ReasoningFeatures})
 * of that model, counted with that model's own SAE at that layer. Each model gets one SAE from scratch per layer on its
 * residual stream over the run's CoT-free trigger texts: source's are the layer sweep's ({@code experiments/layer-N/sae}),
 * base's are SAE-only experiments {@code experiments/base-layer-N/sae}. Our texts are short, so a latent could pass the
 * test on one text by chance: it counts for its layer when it passes on at least {@code majority} of the texts.
 */
final class LayerFeatures {
  private LayerFeatures() {}

  /** The SAE-only experiment of {@code model} at {@code layer} (source's shares the layer sweep's folder and SAE). */
  static Experiment experiment(Preset p, Model model, int layer) {
    String name = (model == Model.SOURCE ? "" : model.dir() + "-") + "layer-" + layer;
    return new Experiment(name, model, layer, null, p.saeSteps(), 0);
  }

  /**
   * One row per layer: {@code reasoning_base}, {@code reasoning_source} (latents passing on at least {@code majority} of
   * {@code texts} trigger texts) and the same for the weaker tag-only latents ({@code tag_only_base}, {@code tag_only_source}).
   */
  static Table run(Preset p, Path runDir, long seed, int texts, double majority, NDManager root) throws IOException {
    if (texts <= 0 || !(majority > 0 && majority <= 1)) throw new IllegalArgumentException("need texts > 0 and majority in (0, 1]");
    List<String> prompts = new ArithmeticTask(p.task()).problems(ArithmeticTask.Split.TRAIN, texts, 11).stream().map(ArithmeticTask::cotFreeText).toList();
    Table out = Table.create("Reasoning features per layer, base and source (latents passing on >= " + Math.round(100 * majority) + " % of "
        + texts + " trigger texts)", IntColumn.create("layer", java.util.stream.IntStream.range(0, p.layers()).toArray()));
    for (Model m : List.of(Model.BASE, Model.SOURCE)) {
      int[][] counts = counts(p, runDir, seed, m, prompts, majority, root); // [reasoning | tag-only][layer]
      out.addColumns(IntColumn.create("reasoning_" + m.dir(), counts[0]), IntColumn.create("tag_only_" + m.dir(), counts[1]));
    }
    return out.reorderColumns("layer", "reasoning_base", "reasoning_source", "tag_only_base", "tag_only_source");
  }

  /** Per layer, how many reasoning and tag-only latents of {@code model} pass on at least {@code majority} of {@code prompts}. */
  private static int[][] counts(Preset p, Path runDir, long seed, Model model, List<String> prompts, double majority, NDManager root)
      throws IOException {
    try (NDManager m = root.newSubManager(); DecoderLM lm = HfCheckpoint.load(runDir.resolve(model.dir()), m)) {
      Map<String, SparseCoder> saes = new LinkedHashMap<>();
      for (int layer = 0; layer < p.layers(); layer++) {
        Experiment e = experiment(p, model, layer);
        e.run(p, runDir, seed, root); // trains the SAE the first time; a cache hit afterwards (and for source after the layer sweep)
        saes.put("layers." + layer, SparsifyFormat.read(e.dir(runDir).resolve("sae"), m));
      }
      List<Map<Integer, Integer>> reasoning = hits(p.layers()), tagOnly = hits(p.layers()); // per layer: latent -> texts it passed on
      for (String prompt : prompts) {
        var found = ReasoningFeatures.find(lm, ArithmeticTask.tokenizer(), saes, prompt);
        for (int layer = 0; layer < p.layers(); layer++) {
          ReasoningFeatures.Found f = found.get("layers." + layer);
          for (int latent : f.reasoning()) reasoning.get(layer).merge(latent, 1, Integer::sum);
          for (int latent : f.tagOnly()) tagOnly.get(layer).merge(latent, 1, Integer::sum);
        }
      }
      int[][] out = new int[2][p.layers()];
      for (int layer = 0; layer < p.layers(); layer++) {
        out[0][layer] = kept(reasoning.get(layer), majority * prompts.size());
        out[1][layer] = kept(tagOnly.get(layer), majority * prompts.size());
      }
      return out;
    }
  }

  private static List<Map<Integer, Integer>> hits(int layers) {
    List<Map<Integer, Integer>> out = new java.util.ArrayList<>();
    for (int i = 0; i < layers; i++) out.add(new HashMap<>());
    return out;
  }

  /** Latents that passed on at least {@code needed} texts. */
  static int kept(Map<Integer, Integer> hits, double needed) {
    return (int) hits.values().stream().filter(n -> n >= needed).count();
  }
}
