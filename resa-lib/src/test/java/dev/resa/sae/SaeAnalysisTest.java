package dev.resa.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.resa.activations.ActivationCache;
import dev.resa.activations.ActivationSource;
import dev.resa.activations.Packing;
import dev.resa.activations.TriggerTemplate;
import dev.resa.core.DataDir;
import dev.resa.core.Djl;
import dev.resa.io.SafeTensors;
import dev.resa.model.DecoderLM;
import dev.resa.model.Hooks;
import dev.resa.model.Llama2c;
import dev.resa.tokenizer.Llama2cTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/** Activation capture and cache, spliced metrics, reasoning features: on stories260K and hand-built SAEs. */
class SaeAnalysisTest {
  static NDManager manager;
  static DecoderLM model;
  static Llama2cTokenizer tok;
  static List<long[]> chunks;
  @TempDir Path tmp;

  @BeforeAll
  static void setUp() throws Exception {
    Djl.init();
    manager = NDManager.newBaseManager();
    Path data = DataDir.resolve(null);
    Path bin = data.resolve("models/stories260K/stories260K.bin");
    if (Files.isRegularFile(bin)) {
      model = Llama2c.load(bin, manager);
      tok = Llama2cTokenizer.load(data.resolve("models/stories260K/tok512.bin"), 512);
      chunks = Packing.pack(SaeTrainerTest.gsm8kTriggerTexts(data, 6), tok, 64);
    }
  }

  @AfterAll
  static void tearDown() {
    if (model != null) model.close();
    manager.close();
  }

  static void requireModel() {
    Assumptions.assumeTrue(model != null, "stories260K not found under the data dir " + DataDir.resolve(null));
  }

  @Test
  void triggerTemplateIsResasExactString() {
    // transcribed from the Python repr in resa-algorithm §1.2
    String expected = "\nA conversation between User and Assistant. The user asks a question, and the Assistant solves it.\nThe assistant first thinks about the reasoning process in the mind and then provides the user\nwith the answer. The reasoning process and answer are enclosed within <think> </think> and\n<answer> </answer> tags, respectively, i.e., <think> reasoning process here </think>\n<answer> answer here </answer>.\nUser:\n 1+1?\n\nAssistant:\n <think> 2 </think>\n<answer> Answer: 2</answer>";
    assertEquals(expected, TriggerTemplate.format("1+1?", "2"));
  }

  /** An SAE that reconstructs exactly: W_enc = W_dec = [I; −I], k = d, so relu(x) and relu(−x) rebuild x. */
  static SparseCoder identitySae(int d) {
    float[] w = new float[2 * d * d];
    for (int i = 0; i < d; i++) {
      w[i * d + i] = 1;
      w[(d + i) * d + i] = -1;
    }
    NDArray wm = manager.create(w, new Shape(2 * d, d));
    return SparseCoder.of(SparseCoderConfig.of(d, 2 * d, d), manager, wm, manager.zeros(new Shape(2 * d)), wm, manager.zeros(new Shape(d)));
  }

  @Test
  void captureMatchesAFullForwardAndTheCacheStreamsTheSameRows() throws Exception {
    requireModel();
    List<long[]> few = chunks.subList(0, 3);
    ActivationSource src = new ActivationSource(model, List.of("layers.1", "layers.3.mlp"));
    try (NDManager m = manager.newSubManager()) {
      Map<String, NDArray> acts = src.capture(few, m);
      assertEquals(new Shape(3 * 64, 64), acts.get("layers.1").getShape());
      // independent path: a full forward (no stopAfter) with a read hook
      List<NDArray> seen = new ArrayList<>();
      try (NDManager step = model.stepScope()) {
        long[] flat = new long[3 * 64];
        for (int i = 0; i < 3; i++) System.arraycopy(few.get(i), 0, flat, i * 64, 64);
        model.forward(step.create(flat, new Shape(3, 64)), new DecoderLM.Options().hooks(Hooks.create().read("layers.3.mlp", a -> seen.add(a.reshape(-1, 64).duplicate()))));
        seen.get(0).attach(m);
      }
      assertArrayEquals(seen.get(0).toFloatArray(), acts.get("layers.3.mlp").toFloatArray(), 1e-6f);

      ActivationCache.Info info = ActivationCache.write(tmp.resolve("cache"), src, few, 2, SafeTensors.FloatFormat.F32);
      assertEquals(2, info.shards());
      assertEquals(3 * 64, info.rows());
      Iterator<Map<String, NDArray>> inOrder = ActivationCache.stream(tmp.resolve("cache"), m, 1000, 1, 0);
      Map<String, NDArray> all = inOrder.next();
      assertArrayEquals(acts.get("layers.1").toFloatArray(), all.get("layers.1").toFloatArray());
      // shuffled: every row appears once, and both hooks receive the same rows
      Iterator<Map<String, NDArray>> shuffled = ActivationCache.stream(tmp.resolve("cache"), m, 50, 100, 7);
      float[] a1 = acts.get("layers.1").toFloatArray();
      float[] a3 = acts.get("layers.3.mlp").toFloatArray();
      BitSet used = new BitSet();
      int rows = 0;
      while (shuffled.hasNext()) {
        Map<String, NDArray> b = shuffled.next();
        float[] b1 = b.get("layers.1").toFloatArray();
        float[] b3 = b.get("layers.3.mlp").toFloatArray();
        for (int r = 0; r < b1.length / 64; r++, rows++) {
          int src1 = findRow(a1, b1, r);
          assertTrue(src1 >= 0 && !used.get(src1), "row " + r + " is a fresh original row");
          used.set(src1);
          for (int j = 0; j < 64; j++) assertEquals(a3[src1 * 64 + j], b3[r * 64 + j]);
        }
      }
      assertEquals(3 * 64, rows);
      ActivationCache.write(tmp.resolve("bf16"), src, few, 3, SafeTensors.FloatFormat.BF16);
      float[] bf = ActivationCache.stream(tmp.resolve("bf16"), m, 1000, 1, 0).next().get("layers.1").toFloatArray();
      for (int i = 0; i < bf.length; i++) assertEquals(a1[i], bf[i], Math.abs(a1[i]) / 128 + 1e-6);
    }
  }

  private static int findRow(float[] all, float[] batch, int r) {
    outer:
    for (int i = 0; i < all.length / 64; i++) {
      for (int j = 0; j < 64; j++) if (all[i * 64 + j] != batch[r * 64 + j]) continue outer;
      return i;
    }
    return -1;
  }

  @Test
  void identitySaeScoresPerfectlyAndMetricsAreConsistent() {
    requireModel();
    try (SparseCoder id = identitySae(64)) {
      SaeMetrics.Spliced s = SaeMetrics.spliced(model, "layers.2", id, chunks.subList(0, 2), 2);
      assertEquals(0, s.kl(), 1e-5);
      assertEquals(s.ceOriginal(), s.ceSpliced(), 1e-5);
      assertTrue(s.ceZeroAblated() > s.ceOriginal() + 0.1, "zero-ablating layer 2 hurts: " + s);
      assertEquals(1, s.ceLossScore(), 1e-4);
      ActivationSource src = new ActivationSource(model, List.of("layers.2"));
      try (NDManager m = manager.newSubManager()) {
        NDArray x = src.capture(chunks.subList(0, 2), m).get("layers.2");
        SaeMetrics.Reconstruction r = SaeMetrics.reconstruction(id, List.of(x).iterator());
        assertEquals(0, r.fvu(), 1e-6);
        assertEquals(1, r.explainedVariance(), 1e-6);
        assertEquals(64, r.l0(), 0.5);
        Table h = SaeMetrics.densityHistogram(r.density());
        assertEquals(128, (int) h.intColumn("latents").sum());
      }
    }
  }

  @Test
  void reasoningFeaturesAreLatentsFiringOnlyOnTheTags() {
    // d = 2: latent 0 reads axis 0, latent 1 axis 1, latent 2 both; k = 1
    NDArray w = manager.create(new float[] {1, 0, 0, 1, 0.6f, 0.6f}, new Shape(3, 2));
    try (SparseCoder sae = SparseCoder.of(SparseCoderConfig.of(2, 3, 1), manager, w, manager.zeros(new Shape(3)), w, manager.zeros(new Shape(2)))) {
      // positions 1 and 3 are the tags: there latent 0 wins; elsewhere latent 1 (position 4: latent 2)
      NDArray x = manager.create(new float[] {0, 5, 5, 0, 0, 5, 5, 0, 4, 4}, new Shape(5, 2));
      BitSet tags = new BitSet();
      tags.set(1);
      tags.set(3);
      assertEquals(new TreeSet<>(List.of(0)), ReasoningFeatures.exclusive(sae, x, tags));
      tags.set(4); // now latent 0 misses a tag position
      assertEquals(new TreeSet<>(), ReasoningFeatures.exclusive(sae, x, tags));
      // tag-only: latent 0 (positions 1, 3) and latent 2 (position 4) fire on tags alone; latent 1 fires at 0 and 2
      assertEquals(new TreeSet<>(List.of(0, 2)), ReasoningFeatures.exclusive(sae, x, tags, false));
    }
  }

  @Test
  void tagPositionsAreFoundAndTheCountTableHasOneRowPerLayer() {
    requireModel();
    ReasoningFeatures.TaggedPrompt tp = ReasoningFeatures.tokenize(TriggerTemplate.SYSTEM_PROMPT, tok);
    assertEquals(4, tp.tagPositions().cardinality(), "<think> </think> appear twice each in the system prompt");
    for (int p = tp.tagPositions().nextSetBit(0); p >= 0; p = tp.tagPositions().nextSetBit(p + 1)) {
      String upTo = tok.decode(java.util.Arrays.copyOfRange(tp.tokens(), 1, p + 1));
      assertTrue(upTo.endsWith("<think>") || upTo.endsWith("</think>"), "position " + p + " ends a tag: ..." + upTo.substring(Math.max(0, upTo.length() - 20)));
    }
    try (NDManager m = manager.newSubManager()) {
      Map<String, SparseCoder> saes = new java.util.TreeMap<>(Map.of(
          "layers.1", SparseCoder.init(SparseCoderConfig.of(64, 256, 8), m, 1), "layers.3", SparseCoder.init(SparseCoderConfig.of(64, 256, 8), m, 2)));
      Table t = ReasoningFeatures.count(model, tok, saes, TriggerTemplate.SYSTEM_PROMPT);
      assertEquals(2, t.rowCount());
      assertEquals(List.of("layers.1", "layers.3"), t.stringColumn("hook").asList());
      assertThrows(IllegalArgumentException.class, () -> ReasoningFeatures.count(model, tok, Map.of("layers.9", saes.get("layers.1")), "<think>"));
    }
  }

  @Test
  void featureCardShowsTopContextsAndLogitAttribution() {
    requireModel();
    try (SparseCoder id = identitySae(64)) {
      int latent = 5; // reads +x_5
      FeatureCards.Card card = FeatureCards.card(model, tok, "layers.2", id, latent, chunks.subList(0, 3), 4, 8);
      assertEquals(4, card.topContexts().size());
      for (int i = 1; i < 4; i++) assertTrue(card.topContexts().get(i - 1).activation() >= card.topContexts().get(i).activation());
      assertTrue(card.topContexts().get(0).text().contains("[["));
      // the best context's activation is the largest x_5 over those tokens, computed here from a plain capture
      try (NDManager m = manager.newSubManager()) {
        float[] x = new ActivationSource(model, List.of("layers.2")).capture(chunks.subList(0, 3), m).get("layers.2").toFloatArray();
        float max = 0;
        for (int t = 0; t < x.length / 64; t++) max = Math.max(max, x[t * 64 + latent]);
        assertEquals(max, card.topContexts().get(0).activation(), 1e-5);
        // several latents in one pass: latent 5's card is unchanged, latent 7's best context is the largest x_7
        List<FeatureCards.Card> two = FeatureCards.cards(model, tok, "layers.2", id, new int[] {5, 7}, chunks.subList(0, 3), 4, 8);
        assertEquals(card.topContexts(), two.get(0).topContexts());
        float max7 = 0;
        for (int t = 0; t < x.length / 64; t++) max7 = Math.max(max7, x[t * 64 + 7]);
        assertEquals(7, two.get(1).latent());
        assertEquals(max7, two.get(1).topContexts().get(0).activation(), 1e-5);
        // logit attribution: W_U · e_5 is column 5 of the unembedding
        String head = model.config().tieEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
        float[] wU = model.weights().get(head).toFloatArray();
        int best = 0;
        for (int v = 0; v < wU.length / 64; v++) if (wU[v * 64 + latent] > wU[best * 64 + latent]) best = v;
        assertEquals(tok.decode(new int[] {best}), card.promotedTokens().get(0));
      }
    }
  }
}
