package dev.resa.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.resa.model.DecoderLM;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import dev.resa.sae.SparseCoder;
import dev.resa.sae.SparseCoderConfig;
import dev.resa.tuning.LoraConfig;
import dev.resa.tuning.SaeTuning;
import dev.resa.tuning.Splice;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./resa bench tune}: Stage II optimizer-step time, naive (full student forward, LoRA everywhere) against
 * the prefix shortcut (layers 0..ℓ once, LoRA on ℓ+1.. only), on the same random model, SAE and data.
 */
@Command(name = "tune", mixinStandardHelpOptions = true,
    description = "Stage II step time with and without the prefix shortcut, and their ratio.")
public final class BenchTuneCommand implements Callable<Integer> {
  @Option(names = "--vocab", defaultValue = "2048", description = "Vocabulary (default: ${DEFAULT-VALUE}).") int vocab;
  @Option(names = "--hidden", defaultValue = "256", description = "Hidden size (default: ${DEFAULT-VALUE}).") int hidden;
  @Option(names = "--layers", defaultValue = "8", description = "Layers (default: ${DEFAULT-VALUE}).") int layers;
  @Option(names = "--layer", defaultValue = "3", description = "Splice layer; 3 of 8 is Resa's 12 of 28 in proportion (default: ${DEFAULT-VALUE}).") int layer;
  @Option(names = "--heads", defaultValue = "8", description = "Query heads (default: ${DEFAULT-VALUE}).") int heads;
  @Option(names = "--kv-heads", defaultValue = "2", description = "Key/value heads (default: ${DEFAULT-VALUE}).") int kvHeads;
  @Option(names = "--intermediate", defaultValue = "704", description = "SwiGLU width (default: ${DEFAULT-VALUE}).") int intermediate;
  @Option(names = "--seq-len", defaultValue = "256", description = "Chunk length (default: ${DEFAULT-VALUE}).") int seqLen;
  @Option(names = "--batch", defaultValue = "2", description = "Chunks per step (default: ${DEFAULT-VALUE}).") int batch;
  @Option(names = "--latents", defaultValue = "4096", description = "SAE latents (default: ${DEFAULT-VALUE}).") int latents;
  @Option(names = "--steps", defaultValue = "6", description = "Timed steps per variant after one warm-up step (default: ${DEFAULT-VALUE}).") int steps;

  @Override
  public Integer call() throws Exception {
    ModelConfig c = ModelConfig.tinyQwen2(vocab, hidden, layers, heads, kvHeads, intermediate, seqLen);
    Random rng = new Random(1);
    List<int[]> warm = chunks(rng, batch), timed = chunks(rng, batch * steps);
    System.out.printf(Locale.ROOT, "model: %d layers, hidden %d, vocab %d; splice at layers.%d; SAE %d latents k=32; batch %d x %d tokens; LoRA r32 on 7 projections%n",
        layers, hidden, vocab, layer, latents, batch, seqLen);
    double naive = 0, shortcut = 0;
    try (NDManager root = NDManager.newBaseManager();
         DecoderLM model = new DecoderLM(c, Weights.random(c, root.newSubManager(), 1, DataType.FLOAT32));
         SparseCoder sae = SparseCoder.init(SparseCoderConfig.of(hidden, latents, 32), root, 2)) {
      for (int round = 0; round < 2; round++) { // alternate, so drifting machine load hits both variants
        for (boolean shortcutOn : new boolean[] {false, true}) {
          SaeTuning.Config cfg = SaeTuning.Config.resa(layer).withLora(LoraConfig.resa()).withBatchSize(batch).withEpochs(1)
              .withPrefixShortcut(shortcutOn);
          try (SaeTuning t = new SaeTuning(model, Splice.of(sae), cfg)) {
            t.train(warm);
            long start = System.nanoTime();
            t.train(timed);
            double ms = (System.nanoTime() - start) / 1e6 / steps;
            if (shortcutOn) shortcut += ms / 2; else naive += ms / 2;
          }
        }
      }
    }
    System.out.printf(Locale.ROOT, "Stage II step, naive (full student, LoRA on all layers): %8.1f ms%n", naive);
    System.out.printf(Locale.ROOT, "Stage II step, prefix shortcut (layers 0..%d once):      %8.1f ms%n", layer, shortcut);
    System.out.printf(Locale.ROOT, "speed-up: %.2fx%n", naive / shortcut);
    return 0;
  }

  private List<int[]> chunks(Random rng, int n) {
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int[] row = new int[seqLen];
      for (int t = 0; t < seqLen; t++) row[t] = rng.nextInt(vocab);
      out.add(row);
    }
    return out;
  }
}
