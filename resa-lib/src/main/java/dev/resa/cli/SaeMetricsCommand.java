package dev.resa.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.resa.activations.ActivationSource;
import dev.resa.activations.TriggerTemplate;
import dev.resa.model.DecoderLM;
import dev.resa.sae.ReasoningFeatures;
import dev.resa.sae.SaeMetrics;
import dev.resa.sae.SparseCoder;
import dev.resa.sae.SparsifyFormat;
import dev.resa.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./resa sae-metrics}: reconstruction and spliced metrics of saved SAEs, plus reasoning-feature counts. */
@Command(name = "sae-metrics", mixinStandardHelpOptions = true,
    description = "FVU, explained variance, L0, dead %%, feature density, KL and CE-loss score when spliced, reasoning features.")
public final class SaeMetricsCommand implements Callable<Integer> {
  @Mixin SaeModelOptions io;

  @Option(names = "--sae", required = true, paramLabel = "DIR", description = "train-sae output (one sub-folder per hook) or one SAE folder (then give --hook).")
  Path sae;

  @Option(names = "--hook", description = "Hook point for a single SAE folder (default: the folder name).")
  String hook;

  @Option(names = "--chunks", defaultValue = "16", description = "Chunks to evaluate on (default: ${DEFAULT-VALUE}).")
  int maxChunks;

  @Option(names = "--batch-seqs", defaultValue = "4", description = "Chunks per forward (default: ${DEFAULT-VALUE}).")
  int batchSeqs;

  @Option(names = "--no-spliced", description = "Skip the spliced KL / CE metrics (three full forwards per batch).")
  boolean noSpliced;

  @Override
  public Integer call() throws Exception {
    List<String> texts = io.triggerTexts();
    try (NDManager manager = NDManager.newBaseManager(); DecoderLM model = io.loadModel(manager)) {
      Tokenizer tok = io.loadTokenizer(model.config().vocabSize());
      Map<String, SparseCoder> saes = new TreeMap<>();
      if (Files.isRegularFile(sae.resolve(SparsifyFormat.CFG))) {
        saes.put(hook != null ? hook : sae.getFileName().toString(), SparsifyFormat.read(sae, manager));
      } else {
        saes.putAll(SparsifyFormat.readAll(sae, manager));
      }
      List<long[]> chunks = io.pack(texts, tok);
      chunks = chunks.subList(0, Math.min(maxChunks, chunks.size()));
      for (var e : saes.entrySet()) {
        String h = e.getKey();
        SparsifyFormat.requireFits(e.getValue().config(), model.config(), h);
        ActivationSource src = new ActivationSource(model, List.of(h));
        Iterator<Map<String, NDArray>> it = src.batches(chunks, batchSeqs, manager);
        Iterator<NDArray> acts = new Iterator<>() {
          public boolean hasNext() {
            return it.hasNext();
          }

          public NDArray next() {
            return it.next().get(h);
          }
        };
        SaeMetrics.Reconstruction r = SaeMetrics.reconstruction(e.getValue(), acts);
        SaeMetrics.Spliced s = noSpliced ? null : SaeMetrics.spliced(model, h, e.getValue(), chunks, batchSeqs);
        System.out.println(SaeMetrics.summary(h, r, s).print());
        System.out.println(SaeMetrics.densityHistogram(r.density()).print());
      }
      System.out.println(ReasoningFeatures.count(model, tok, saes, TriggerTemplate.SYSTEM_PROMPT).print());
    }
    return 0;
  }
}
