package dev.resa.tuning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.resa.eval.Problem;
import dev.resa.model.DecoderLM;
import dev.resa.model.ModelConfig;
import dev.resa.testing.Managed;
import dev.resa.tokenizer.CharTokenizer;
import dev.resa.train.NonFiniteException;
import dev.resa.train.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one LoRA loop under its three objectives: resume equals an uninterrupted run; a non-finite step stops cleanly. */
class LoraTrainerTest {
  static final ModelConfig TINY = SaeTuningTest.TINY;
  @Managed NDManager root;

  /** Stage II with dropout on (so the per-step RNG matters), a checkpoint every 2 steps, 8 steps in all. */
  private SaeTuning.Config stageTwo(Path out) {
    return SaeTuning.Config.resa(1).withLora(new LoraConfig(4, 16, 0.1, LoraConfig.ALL_TARGETS, null, 1))
        .withLr(4e-3).withEpochs(4).withBatchSize(2).withOutput(out, 2, "tiny");
  }

  private static float[][] weights(Lora lora) {
    List<NDArray> ps = lora.parameters();
    float[][] out = new float[ps.size()][];
    for (int i = 0; i < ps.size(); i++) out[i] = ps.get(i).toFloatArray();
    return out;
  }

  @Test
  void stageTwoResumedAfterAnInterruptEqualsTheUninterruptedRun(@TempDir Path dir) throws IOException {
    List<int[]> data = SaeTuningTest.chunks(4, 12, 32, 3);
    SaeTuningTest.TinyTopK sae = new SaeTuningTest.TinyTopK(root, 16, 48, 4, 6, DataType.FLOAT32);
    double[] fullLoss;
    float[][] fullWeights;
    try (DecoderLM model = SaeTuningTest.model(root, TINY, 5, DataType.FLOAT32); SaeTuning t = new SaeTuning(model, sae, stageTwo(dir.resolve("full")))) {
      LoraTrainer.Result r = t.train(data);
      assertEquals(8, r.steps());
      fullLoss = r.log().losses();
      fullWeights = weights(t.adapter());
    }
    Path out = dir.resolve("split");
    try (DecoderLM model = SaeTuningTest.model(root, TINY, 5, DataType.FLOAT32); SaeTuning t = new SaeTuning(model, sae, stageTwo(out))) {
      t.trainer().onStep(log -> {
        if (log.rows() == 3) Thread.currentThread().interrupt(); // stop at the boundary after step 3 (not a save step)
      });
      assertThrows(Progress.TrainingInterruptedException.class, () -> t.train(data));
    }
    assertTrue(Files.isRegularFile(out.resolve("checkpoint-3").resolve(LoraTrainer.STATE_FILE)), "the interrupt saves its step");
    assertFalse(Files.exists(out.resolve("adapter")), "an interrupted run writes no final adapter");
    try (DecoderLM model = SaeTuningTest.model(root, TINY, 5, DataType.FLOAT32);
         SaeTuning t = new SaeTuning(model, sae, stageTwo(out).withTrain(stageTwo(out).train().withResume(true)))) {
      LoraTrainer.Result r = t.train(data);
      assertEquals(8, r.steps());
      assertArrayEquals(fullLoss, r.log().losses(), 1e-6, "the resumed loss curve (3 restored rows + 5 new ones)");
      float[][] w = weights(t.adapter());
      for (int i = 0; i < w.length; i++) assertArrayEquals(fullWeights[i], w[i], 1e-6f, "adapter tensor " + i);
      System.out.printf("Stage II resume: loss %s == uninterrupted%n", java.util.Arrays.toString(r.log().losses()));
    }
  }

  /** Hashes of every file under {@code dir}, to prove a checkpoint was not touched. */
  static TreeMap<String, String> hashes(Path dir) throws IOException {
    TreeMap<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path f : s.filter(Files::isRegularFile).toList()) {
        try {
          out.put(dir.relativize(f).toString(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f))));
        } catch (java.security.NoSuchAlgorithmException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return out;
  }

  /** What every trainer's guard must leave behind: a message naming the step, the last checkpoint as it was, no adapter. */
  static void assertStoppedCleanly(NonFiniteException e, long step, Path out, TreeMap<String, String> before) throws IOException {
    System.out.println("guard: " + e.getMessage());
    assertEquals(step, e.step());
    assertTrue(e.getMessage().startsWith("step " + step + ": loss is NaN"), e.getMessage());
    assertTrue(e.getMessage().contains(out.resolve("checkpoint-" + (step - 1)).toString()), e.getMessage());
    assertEquals(before, hashes(out.resolve("checkpoint-" + (step - 1))), "the last good checkpoint is untouched");
    assertFalse(Files.exists(out.resolve("checkpoint-" + step)));
    assertFalse(Files.exists(out.resolve("adapter")), "no final adapter after a non-finite step");
  }

  @Test
  void saeTuningStopsAtTheFirstNonFiniteKl(@TempDir Path dir) throws IOException {
    SaeTuningTest.TinyTopK good = new SaeTuningTest.TinyTopK(root, 16, 48, 4, 6, DataType.FLOAT32);
    int[] calls = {0};
    Splice breaksAtStep3 = new Splice() { // one reconstruct per step: from step 3 on the SAE returns NaN
      @Override
      public NDArray reconstruct(NDArray x) {
        NDArray r = good.reconstruct(x);
        return ++calls[0] >= 3 ? r.mul(Float.NaN) : r;
      }

      @Override
      public int dIn() {
        return 16;
      }
    };
    Path out = dir.resolve("run");
    TreeMap<String, String>[] before = new TreeMap[1];
    try (DecoderLM model = SaeTuningTest.model(root, TINY, 5, DataType.FLOAT32);
         SaeTuning t = new SaeTuning(model, breaksAtStep3, stageTwo(out).withOutput(out, 1, "tiny"))) {
      t.trainer().onStep(log -> {
        try {
          if (log.rows() == 2) before[0] = hashes(out.resolve("checkpoint-2"));
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      NonFiniteException e = assertThrows(NonFiniteException.class, () -> t.train(SaeTuningTest.chunks(4, 12, 32, 3)));
      assertStoppedCleanly(e, 3, out, before[0]);
    }
  }

  @Test
  void sftStopsAtTheFirstNonFiniteLoss(@TempDir Path dir) throws IOException {
    Path out = dir.resolve("run");
    Sft.Config cfg = Sft.Config.resa().withLora(new LoraConfig(4, 8, 0, LoraConfig.ALL_TARGETS, null, 1)).withLr(1e-2)
        .withEpochs(4).withBatchSize(2).withOutput(out, 1, "tiny");
    TreeMap<String, String>[] before = new TreeMap[1];
    try (DecoderLM model = SaeTuningTest.model(root, TINY, 5, DataType.FLOAT32); Sft sft = new Sft(model, cfg)) {
      sft.trainer().onStep(log -> { // after step 2 an adapter weight turns NaN, as a diverging update would leave it
        if (log.rows() != 2) return;
        try {
          before[0] = hashes(out.resolve("checkpoint-2"));
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
        NDArray a = sft.adapter().parameters().get(0);
        float[] v = a.toFloatArray();
        v[0] = Float.NaN;
        a.set(v);
      });
      NonFiniteException e = assertThrows(NonFiniteException.class, () -> sft.train(SaeTuningTest.chunks(4, 12, 32, 3)));
      assertStoppedCleanly(e, 3, out, before[0]);
    }
  }

  @Test
  void grpoStopsAtTheFirstNonFiniteLoss(@TempDir Path dir) throws IOException {
    CharTokenizer tok = GrpoTest.TOK;
    ModelConfig c = ModelConfig.tinyQwen2(tok.vocabSize(), 16, 2, 4, 2, 24, 16);
    List<Problem> problems = new ArrayList<>();
    for (int a = 0; a <= 3; a++) problems.add(new Problem("p" + a, a + "+1=", List.of(String.valueOf(a + 1)), List.of(), null));
    int[] rounds = {0};
    Grpo.Reward nanFromRound3 = (completion, answer) -> rounds[0] >= 2 ? Double.NaN : completion.length() % 2;
    Path out = dir.resolve("run");
    Grpo.Config cfg = Grpo.Config.defaults().withLora(new LoraConfig(4, 8, 0, LoraConfig.ALL_TARGETS, null, 1))
        .withGroups(2, 2).withMaxNewTokens(3).withRounds(5).withSeed(3).withTrain(LoraTrainer.Config.of(1e-3).withOutput(out, 1, "tiny"));
    TreeMap<String, String>[] before = new TreeMap[1];
    try (DecoderLM model = SaeTuningTest.model(root, c, 5, DataType.FLOAT32); Grpo grpo = new Grpo(model, tok, nanFromRound3, cfg)) {
      grpo.onCompletions(texts -> rounds[0]++); // called after the round's rewards: round 3 sees 2
      grpo.trainer().onStep(log -> {
        try {
          if (log.rows() == 2) before[0] = hashes(out.resolve("checkpoint-2"));
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      NonFiniteException e = assertThrows(NonFiniteException.class, () -> grpo.train(problems));
      assertStoppedCleanly(e, 3, out, before[0]);
    }
  }
}
