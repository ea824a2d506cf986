package dev.resa.tuning;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.resa.eval.Problem;
import dev.resa.model.DecoderLM;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import dev.resa.task.ArithmeticTask;
import dev.resa.testing.Managed;
import dev.resa.tokenizer.CharTokenizer;
import dev.resa.train.AdamW;
import dev.resa.train.Gradients;
import dev.resa.train.Losses;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GrpoTest {
  static final CharTokenizer TOK = new CharTokenizer("0123456789+=");
  @Managed NDManager root;

  @Test
  void answerExtraction() {
    assertEquals(1.0, Grpo.exactMatch().score(" 12 ", "12"));
    assertEquals(1.0, Grpo.exactMatch().score("so the result is \\boxed{3} no wait \\boxed{7}.", "7"));
    assertEquals(1.0, Grpo.exactMatch().score("<think>...</think> Answer: $42$.", "42"));
    Grpo.Reward r = Grpo.exactMatch();
    assertEquals(1.0, r.score("Answer: 5", "5"));
    assertEquals(0.0, r.score("Answer: 15", "5"));
    Grpo.Reward math = Grpo.mathEquivalence();
    assertEquals(1.0, math.score("so \\boxed{\\frac{1}{2}}", "0.5"));
    assertEquals(0.0, math.score("so \\boxed{3}", "0.5"));
  }

  /** Tina's reward on the arithmetic task: 2 for a correct answer plus 1 for a well-formed completion. */
  private static final Grpo.Weighted TINA = Grpo.Reward.weighted(
      new Grpo.Term("accuracy", 2.0, ArithmeticTask::accuracyReward), new Grpo.Term("format", 1.0, (c, a) -> ArithmeticTask.formatReward(c)));

  @Test
  void weightedRewardAddsItsWeightedTerms() {
    assertEquals(3.0, TINA.score("3+5=8. 8*7=6. 6-2=4.</think> \\boxed{4}", "4"), "correct and well-formed");
    assertEquals(1.0, TINA.score(" 5 </think>\n<answer> Answer: 5</answer>", "4"), "wrong but well-formed");
    assertEquals(2.0, TINA.score("3+5=8. \\boxed{8}", "8"), "correct but no </think>");
    assertEquals(0.0, TINA.score("", "8"), "empty");
    assertArrayEquals(new double[] {0, 1}, TINA.scores(" 5 </think>\n<answer> Answer: 5</answer>", "4"));
    assertThrows(IllegalArgumentException.class, () -> new Grpo.Term("reward", 1, (c, a) -> 0), "the sum's column");
    assertThrows(IllegalArgumentException.class, () -> new Grpo.Term("x", Double.NaN, (c, a) -> 0));
    assertThrows(IllegalArgumentException.class, () -> Grpo.Reward.weighted(new Grpo.Term("x", 1, (c, a) -> 0), new Grpo.Term("x", 2, (c, a) -> 1)));
    assertThrows(IllegalArgumentException.class, () -> Grpo.Reward.weighted());
  }

  /** Each term's round mean has its own log column, and the logged reward is their weighted sum. */
  @Test
  void weightedRewardLogsEachTermPerRound() throws Exception {
    ModelConfig c = ModelConfig.tinyQwen2(TOK.vocabSize(), 16, 2, 4, 2, 24, 16);
    List<Problem> problems = new ArrayList<>();
    for (int a = 0; a <= 3; a++) problems.add(new Problem("p" + a, a + "+1=", List.of(String.valueOf(a + 1)), List.of(), null));
    Grpo.Weighted r = Grpo.Reward.weighted(new Grpo.Term("even", 2.0, (comp, a) -> comp.length() % 2 == 0 ? 1 : 0),
        new Grpo.Term("one", 1.0, (comp, a) -> 1));
    Grpo.Config cfg = Grpo.Config.defaults().withLora(new LoraConfig(4, 8, 0, LoraConfig.ALL_TARGETS, null, 1))
        .withGroups(2, 4).withMaxNewTokens(3).withRounds(3).withSeed(3).withTrain(LoraTrainer.Config.of(1e-3));
    List<Double> evenShare = new ArrayList<>();
    try (DecoderLM model = SaeTuningTest.model(root, c, 5, DataType.FLOAT32); Grpo grpo = new Grpo(model, TOK, r, cfg)) {
      grpo.onCompletions(texts -> evenShare.add(texts.stream().filter(t -> t.length() % 2 == 0).count() / (double) texts.size()));
      tech.tablesaw.api.Table log = grpo.train(problems).log().table();
      assertEquals(3, log.rowCount());
      for (int i = 0; i < 3; i++) {
        assertEquals(1.0, log.doubleColumn("one").get(i), 0);
        assertEquals(evenShare.get(i), log.doubleColumn("even").get(i), 1e-12, "round " + i);
        assertEquals(2 * evenShare.get(i) + 1, log.doubleColumn("reward").get(i), 1e-12, "round " + i);
      }
    }
  }

  @Test
  void tinaLoopWarmsUpThenDecaysOverTwiceTheRun() {
    LoraTrainer.Config t = Grpo.tinaLoop(1.0);
    assertEquals(0, t.weightDecay(), 0);
    var s = t.scheduleFor(10); // planned over 20 steps: 2 of warm-up, then cosine from 1 to 0.1 over 18
    assertEquals(0.5, s.at(0), 1e-12);
    assertEquals(1.0, s.at(1), 1e-12);
    assertEquals(1.0, s.at(2), 1e-12);
    assertEquals(0.1 + 0.45 * (1 + Math.cos(Math.toRadians(70))), s.at(9), 1e-12); // 7 of 18 steps: 70 degrees
    assertEquals(0.70391, s.at(9), 1e-5);
  }

  @Test
  void configRejectsGroupsTooSmallToNormalise() {
    assertThrows(IllegalArgumentException.class,
        () -> Grpo.Config.defaults().withGroups(8, 1));
  }

  /**
   * A tiny model learns a+b (a, b in 0..3) from data where half the answers are wrong, so it answers right only
   * about half the time when sampling. GRPO with exact-match reward must raise its sampled accuracy clearly.
   */
  @Test
  void grpoRaisesAccuracyOnNoisyAddition() throws Exception {
    ModelConfig c = ModelConfig.tinyQwen2(TOK.vocabSize(), 32, 2, 4, 2, 64, 16);
    List<Problem> problems = new ArrayList<>();
    for (int a = 0; a <= 3; a++) for (int b = 0; b <= 3; b++) problems.add(new Problem(a + "+" + b, a + "+" + b + "=", List.of(String.valueOf(a + b)), List.of(), null));
    try (DecoderLM model = new DecoderLM(c, Weights.random(c, root.newSubManager(), 3, DataType.FLOAT32))) {
      pretrainOnNoisyAnswers(model, problems, 500);
      NDArray probe = root.create(new long[] {1, 5, 15, 5, 16}, new Shape(1, 5)); // <bos>0+0=
      for (float v : model.logits(probe).toFloatArray()) assertTrue(Float.isFinite(v), "pretraining diverged");
      Grpo.Config cfg = Grpo.Config.defaults().withLora(new LoraConfig(8, 16, 0, LoraConfig.ALL_TARGETS, null, 1))
          .withGroups(6, 8).withMaxNewTokens(3).withKlBeta(0).withRounds(60).withSeed(7)
          .withTrain(LoraTrainer.Config.of(1e-2).withWeightDecay(0));
      try (Grpo grpo = new Grpo(model, TOK, Grpo.exactMatch(), cfg)) {
        double before = grpo.meanReward(problems, 8, 1.0, 11);
        double greedyBefore = grpo.meanReward(problems, 1, 0, 0);
        LoraTrainer.Result r = grpo.train(problems);
        double[] reward = r.log().table().doubleColumn("reward").asDoubleArray();
        double after = grpo.meanReward(problems, 8, 1.0, 11);
        double greedyAfter = grpo.meanReward(problems, 1, 0, 0);
        System.out.printf("GRPO on noisy a+b: sampled accuracy %.3f -> %.3f, greedy %.3f -> %.3f (train reward first %.3f, last %.3f)%n",
            before, after, greedyBefore, greedyAfter, reward[0], reward[reward.length - 1]);
        assertEquals(60, r.log().rows());
        assertTrue(before < 0.75, "the pretrained model should be unreliable when sampling, got " + before);
        assertTrue(after >= before + 0.15, "GRPO must raise sampled accuracy by >= 0.15: " + before + " -> " + after);
        assertTrue(greedyAfter >= greedyBefore, "greedy accuracy must not drop: " + greedyBefore + " -> " + greedyAfter);
      }
    }
  }

  /** Next-token training of all weights on "<bos>a+b=c<eos>", where half the c are a random wrong sum. */
  static void pretrainOnNoisyAnswers(DecoderLM model, List<Problem> problems, int steps) {
    Random rng = new Random(5);
    List<NDArray> params = model.weights().setTrainable(n -> true);
    int len = 8; // <bos> a + b = c c <eos>, right-padded
    try (AdamW adamw = new AdamW(AdamW.Config.torchDefaults(2e-3), model.manager())) {
      for (int step = 0; step < steps; step++) {
        int batch = 48;
        long[] ids = new long[batch * len];
        float[] mask = new float[batch * (len - 1)];
        for (int i = 0; i < batch; i++) {
          Problem p = problems.get(rng.nextInt(problems.size()));
          int gold = Integer.parseInt(p.answers().get(0));
          int shown = rng.nextBoolean() ? gold : (gold + 1 + rng.nextInt(6)) % 7;
          List<Integer> seq = new ArrayList<>();
          seq.add(TOK.bosId());
          for (int t : TOK.encode(p.problem() + shown)) seq.add(t);
          seq.add(TOK.eosId());
          for (int t = 0; t < len; t++) ids[i * len + t] = t < seq.size() ? seq.get(t) : TOK.padId();
          for (int t = 4; t < seq.size() - 1; t++) mask[i * (len - 1) + t] = 1; // predict the answer and EOS
        }
        try (NDManager scope = model.stepScope()) {
          NDArray tok = scope.create(ids, new Shape(batch, len));
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray logits = model.logits(tok).get(":, :-1, :");
            gc.backward(Losses.crossEntropy(logits, tok.get(":, 1:"), scope.create(mask, new Shape(batch, len - 1))));
          }
          Gradients.clipGlobalNorm(params, 1.0);
          adamw.step(params);
        }
      }
    }
    model.weights().setTrainable(n -> false);
  }
}
