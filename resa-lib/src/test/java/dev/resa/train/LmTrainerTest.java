package dev.resa.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.resa.activations.Packing;
import dev.resa.core.Djl;
import dev.resa.model.DecoderLM;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import dev.resa.tokenizer.CharTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LmTrainerTest {
  private static final CharTokenizer TOK = new CharTokenizer("0123456789+=");

  @BeforeAll
  static void quiet() {
    System.setProperty("resa.progress.off", "true");
  }

  /** "a+b=c" lines with single-digit operands: the answer is a function of the prompt, the operands are not. */
  private static List<String> additions(int n, long seed) {
    Random r = new Random(seed);
    List<String> docs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int a = r.nextInt(10), b = r.nextInt(10);
      docs.add(a + "+" + b + "=" + (a + b));
    }
    return docs;
  }

  private static DecoderLM tinyModel(NDManager m, int hidden, int intermediate, int seqLen, long seed) {
    ModelConfig c = ModelConfig.tinyQwen2(TOK.vocabSize(), hidden, 2, 4, 2, intermediate, seqLen);
    return new DecoderLM(c, Weights.random(c, m.newSubManager(), seed, DataType.FLOAT32));
  }

  private static double[] train(List<long[]> chunks, LmTrainer.Config cfg, long initSeed) throws IOException {
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu()); DecoderLM model = tinyModel(m, 32, 64, 32, initSeed)) {
      return new LmTrainer(model, cfg, chunks).train().losses();
    }
  }

  private static final LmTrainer.Config SMALL = LmTrainer.Config.defaults().withSteps(8).withBatch(4).withLr(3e-3, 2);

  /** A caller-supplied batch (forBatches) takes the same three steps as the trainer's own chunk of that batch. */
  @Test
  void suppliedBatchStepsMatchTheChunkPath() {
    long[] chunk = {1, 4, 10, 3, 11, 7, 2, 5, 10, 9};
    LmTrainer.Config cfg = LmTrainer.Config.defaults().withSteps(3).withBatch(1).withLr(3e-3, 1);
    double[][] losses = new double[2][3];
    float[][] weights = new float[2][];
    for (int path = 0; path < 2; path++) {
      try (NDManager m = Djl.newManager(ai.djl.Device.cpu()); DecoderLM model = tinyModel(m, 32, 64, 32, 5);
          LmTrainer t = path == 0 ? new LmTrainer(model, cfg, List.<long[]>of(chunk)) : LmTrainer.forBatches(model, cfg)) {
        for (int s = 0; s < 3; s++) {
          if (path == 0) {
            losses[path][s] = t.trainStep().loss();
          } else {
            try (NDManager b = m.newSubManager()) {
              NDArray tok = b.create(chunk, new Shape(1, chunk.length)); // [1, L]
              losses[path][s] = t.trainStep(tok.get(":, :-1"), tok.get(":, 1:"), null).loss();
            }
          }
        }
        weights[path] = model.weights().get("model.layers.0.mlp.up_proj.weight").toFloatArray();
      }
    }
    assertArrayEquals(losses[0], losses[1], 1e-6);
    assertArrayEquals(weights[0], weights[1], 1e-6f);
    assertTrue(losses[0][2] < losses[0][0], "three steps on one chunk lower its loss");
  }

  @Test
  void sameSeedGivesTheSameLossesBitForBit() throws IOException {
    List<long[]> chunks = Packing.pack(additions(400, 1), TOK, 17);
    double[] first = train(chunks, SMALL.withSeed(5), 11);
    double[] second = train(chunks, SMALL.withSeed(5), 11);
    assertEquals(8, first.length);
    assertArrayEquals(first, second, 0.0);
    double[] otherOrder = train(chunks, SMALL.withSeed(6), 11);
    assertFalse(java.util.Arrays.equals(first, otherOrder), "a different data seed must change the batches");
  }

  @Test
  void resumingReproducesTheRunThatNeverStopped(@TempDir Path dir) throws IOException {
    List<long[]> chunks = Packing.pack(additions(200, 2), TOK, 17); // few chunks: the run crosses epochs
    LmTrainer.Config cfg = SMALL.withSteps(12).withSeed(3);
    double[] straight = train(chunks, cfg, 21);

    Path ckpt = dir.resolve(LmTrainer.STATE_FILE);
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu()); DecoderLM model = tinyModel(m, 32, 64, 32, 21)) {
      LmTrainer t = new LmTrainer(model, cfg, chunks);
      for (int s = 0; s < 5; s++) t.trainStep(); // stop after 5 of 12 steps
      t.saveCheckpoint(ckpt);
      t.trainStep(); // work after the checkpoint is lost, as in a crash
    }
    double[] resumed;
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu()); DecoderLM model = tinyModel(m, 32, 64, 32, 999)) {
      LmTrainer t = new LmTrainer(model, cfg, chunks); // different random init: the checkpoint must overwrite it
      t.resume(ckpt);
      assertEquals(5, t.step());
      resumed = t.train().losses();
    }
    assertEquals(12, resumed.length);
    assertArrayEquals(straight, resumed, 0.0, "loss curve after resume differs from the uninterrupted run");

    // A checkpoint from another data order is refused with a message naming the key.
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu()); DecoderLM model = tinyModel(m, 32, 64, 32, 1)) {
      LmTrainer t = new LmTrainer(model, cfg.withSeed(4), chunks);
      IOException e = assertThrows(IOException.class, () -> t.resume(ckpt));
      assertTrue(e.getMessage().contains("resa.seed"), e.getMessage());
    }
  }

  /** {@code train-lm --lr 1e9}: the run stops at the first non-finite loss, naming the step, the last checkpoint intact. */
  @Test
  void aDivergingRunStopsBeforeItsFirstNonFiniteUpdate(@TempDir Path dir) throws IOException {
    List<long[]> chunks = Packing.pack(additions(200, 2), TOK, 17);
    LmTrainer.Config cfg = SMALL.withSteps(40).withLr(1e9, 0).withCheckpoints(dir, 1);
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu()); DecoderLM model = tinyModel(m, 32, 64, 32, 21);
         LmTrainer t = new LmTrainer(model, cfg, chunks)) {
      NonFiniteException e = assertThrows(NonFiniteException.class, t::train);
      System.out.println("guard: " + e.getMessage());
      assertTrue(e.step() >= 2, "step 1 runs on the finite initial weights");
      assertTrue(e.getMessage().startsWith("step " + e.step() + ": "), e.getMessage());
      assertTrue(e.getMessage().contains(dir.resolve(LmTrainer.STATE_FILE).toString()), e.getMessage());
      assertEquals(e.step() - 1, t.step(), "no update was taken at the failing step");
      try (dev.resa.io.SafeTensors.Reader r = dev.resa.io.SafeTensors.open(dir.resolve(LmTrainer.STATE_FILE))) {
        assertEquals(Long.toString(e.step() - 1), r.metadata().get("resa.step"), "the checkpoint is the last good step's");
        for (String name : r.entries().keySet()) {
          for (float v : r.readFloats(name)) assertTrue(Float.isFinite(v), "checkpoint tensor " + name + " holds " + v);
        }
      }
    }
  }

  /** Unigram entropy (nats) of the token stream: the loss of the best model that ignores context. */
  private static double unigramEntropy(List<long[]> chunks) {
    Map<Long, Integer> counts = new HashMap<>();
    long n = 0;
    for (long[] c : chunks) for (long t : c) { counts.merge(t, 1, Integer::sum); n++; }
    double h = 0;
    for (int k : counts.values()) { double p = (double) k / n; h -= p * Math.log(p); }
    return h;
  }

  @Test
  void learnsArithmeticFarBelowTheUnigramEntropy() throws IOException {
    int seqLen = 48;
    List<long[]> train = Packing.pack(additions(6000, 7), TOK, seqLen + 1);
    List<long[]> heldOut = Packing.pack(additions(600, 8), TOK, seqLen + 1);
    double entropy = unigramEntropy(train);
    LmTrainer.Config cfg = LmTrainer.Config.defaults().withSteps(300).withBatch(16).withLr(3e-3, 30).withSeed(1);
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu()); DecoderLM model = tinyModel(m, 64, 128, seqLen, 1)) {
      new LmTrainer(model, cfg, train).train();
      double loss = meanLoss(model, heldOut);
      System.out.printf("arithmetic: unigram entropy %.3f nats, held-out loss %.3f nats%n", entropy, loss);
      assertTrue(loss < 0.5 * entropy, "held-out loss " + loss + " is not below half the unigram entropy " + entropy);
    }
  }

  private static double meanLoss(DecoderLM model, List<long[]> chunks) {
    int len = chunks.get(0).length;
    long[] flat = new long[chunks.size() * len];
    for (int i = 0; i < chunks.size(); i++) System.arraycopy(chunks.get(i), 0, flat, i * len, len);
    try (NDManager scope = model.stepScope()) {
      NDArray tokens = scope.create(flat, new Shape(chunks.size(), len));
      NDArray logits = model.logits(tokens.get(":, :-1"));
      return Losses.crossEntropy(logits, tokens.get(":, 1:"), null).getFloat();
    }
  }
}
