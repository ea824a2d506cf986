package dev.resa.miniature;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.resa.activations.ActivationSource;
import dev.resa.miniature.Miniature.Model;
import dev.resa.miniature.Miniature.SaeMode;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.sae.SparseCoder;
import dev.resa.sae.SparsifyFormat;
import dev.resa.task.ArithmeticTask;
import dev.resa.tokenizer.CharTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** SAE latent activations on one text, for notebooks ({@link RunResult#featureActivations}). */
final class Features {
  private Features() {}

  /** Latent activations [T][m] of a run's Stage-I SAE on {@code <bos> prompt completion} at the hook layer. */
  static RunResult.FeatureActivations activations(Path dir, int layer, SaeMode mode, Model model, String prompt, String completion)
      throws IOException {
    CharTokenizer tok = ArithmeticTask.tokenizer();
    int[] ids = tok.encode("<bos>" + prompt + completion);
    long[] chunk = new long[ids.length];
    for (int i = 0; i < ids.length; i++) chunk[i] = ids[i];
    try (NDManager m = dev.resa.core.Djl.newManager(dev.resa.core.Djl.defaultDevice());
         DecoderLM lm = HfCheckpoint.load(dir.resolve(model.dir()), m);
         SparseCoder sae = SparsifyFormat.read(dir.resolve(mode.dir()), m)) {
      NDArray h = new ActivationSource(lm, List.of("layers." + layer)).capture(List.of(chunk), m).get("layers." + layer); // [T, D]
      SparseCoder.TopK top = sae.encode(h); // [T, k] each
      int k = sae.config().k();
      float[] v = top.values().toFloatArray();
      long[] idx = top.indices().toLongArray();
      float[][] acts = new float[ids.length][sae.config().numLatents()];
      List<String> tokens = new ArrayList<>();
      for (int t = 0; t < ids.length; t++) {
        for (int j = 0; j < k; j++) acts[t][(int) idx[t * k + j]] = v[t * k + j];
        tokens.add(tok.decode(new int[] {ids[t]}).replace("\n", "\\n"));
      }
      return new RunResult.FeatureActivations(tokens, acts);
    }
  }
}
