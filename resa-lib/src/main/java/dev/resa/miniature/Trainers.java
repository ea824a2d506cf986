package dev.resa.miniature;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.resa.model.DecoderLM;
import dev.resa.task.ArithmeticTask;
import dev.resa.task.ArithmeticTask.Problem;
import dev.resa.tokenizer.Tokenizer;
import dev.resa.train.Batches;
import dev.resa.train.TrainLog;
import dev.resa.tuning.LoraTrainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import dev.resa.train.LmTrainer;
import dev.resa.train.Progress;
import dev.resa.tuning.Grpo;
import dev.resa.tuning.LoraConfig;
import dev.resa.tuning.SaeTuning;
import dev.resa.tuning.Sft;
import dev.resa.tuning.Splice;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import tech.tablesaw.api.Table;

/**
 * The miniature's glue to the library's trainers ({@link LmTrainer}, {@link Sft}, {@link SaeTuning}, {@link Grpo}):
 * it samples right-padded (prompt, completion) batches of arithmetic text per step and turns each run into rows
 * of named metrics, one per step; plus activation capture and the starting KL of a splice.
 */
final class Trainers {
  private Trainers() {}

  /** One logged step: metric name to value, in insertion order. */
  record Row(int step, Map<String, Double> metrics) {}

  /** A batch of (prompt, completion) texts for one step. */
  interface Texts extends Function<Random, List<String[]>> {}

  /**
   * Full-weight next-token pretraining with the library's {@link LmTrainer} on right-padded (prompt, completion)
   * batches, loss on completion tokens: AdamW (torch betas 0.9 / 0.999, weight decay 0.01 on matrices), cosine
   * from {@code peakLr} to a tenth after min(50, steps / 10) warm-up steps, gradients clipped at 1.
   */
  static List<Row> pretrain(DecoderLM model, Tokenizer tok, Texts data, int steps, double peakLr, long seed, String title) {
    LmTrainer.Config cfg = new LmTrainer.Config(steps, 1, peakLr, 0.1, Math.min(50, steps / 10), 0.01, 0.9, 0.999, 1.0, seed, 0, null);
    try (LmTrainer trainer = LmTrainer.forBatches(model, cfg)) {
      return loop(title, steps, seed, (step, rng) -> {
        try (NDManager sm = model.manager().newSubManager()) {
          TokenBatch tb = batch(sm, tok, data.apply(rng));
          LmTrainer.StepResult r = trainer.trainStep(tb.inputs(), tb.targets(), tb.completion());
          Map<String, Double> m = metrics("loss", r.loss(), "tokens", tb.valid().sum().getFloat());
          m.put("grad_norm", r.gradNorm());
          return m;
        }
      });
    } finally {
      model.weights().setTrainable(n -> false);
    }
  }

  /**
   * LoRA SFT with the library's {@link Sft} (the paper's SFT baselines): cross-entropy on completion tokens of
   * right-padded (prompt, completion) batches, AdamW at a constant lr. The adapter is merged into {@code model}'s
   * weights at the end.
   */
  static List<Row> sft(DecoderLM model, Tokenizer tok, Texts data, LoraConfig loraConfig, int steps, double lrValue, long seed,
      String title) {
    Sft.Config cfg = Sft.Config.resa().withLora(loraConfig).withTrain(LoraTrainer.Config.of(lrValue).withSaveEvery(0));
    try (Sft sft = new Sft(model, cfg)) {
      TrainLog log = sft.train(Batches.pairs(tok, seed, data), steps).log();
      sft.adapter().merge(model.weights());
      return rows(log, "loss", "tokens");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Stage II with the library's {@link SaeTuning} (resa-algorithm.md §2.3): the frozen splice replaces layer
   * {@code layer}'s output, LoRA on the layers after it learns to match the un-spliced, adapter-free model. The
   * miniature feeds right-padded (prompt, completion) batches, so pads are masked out of the KL; the logged
   * {@code kl} is the token mean over real tokens (comparable with {@link #spliceKl}). The adapter is merged into
   * {@code model}'s weights at the end.
   */
  static List<Row> saeTune(DecoderLM model, Tokenizer tok, Texts data, int layer, UnaryOperator<NDArray> splice,
      LoraConfig loraConfig, int steps, double lrValue, long seed, String title) {
    SaeTuning.Config cfg = SaeTuning.Config.resa(layer).withLora(loraConfig).withTrain(LoraTrainer.Config.of(lrValue).withSaveEvery(0));
    Splice frozen = new Splice() {
      @Override
      public NDArray reconstruct(NDArray x) {
        return splice.apply(x).stopGradient(); // [N, D]
      }

      @Override
      public int dIn() {
        return model.config().hiddenSize();
      }
    };
    try (SaeTuning tuning = new SaeTuning(model, frozen, cfg)) {
      TrainLog log = tuning.train(Batches.pairs(tok, seed, data), steps).log();
      tuning.adapter().merge(model.weights());
      List<Row> rows = rows(log, "kl_token", "tokens");
      for (Row r : rows) r.metrics().put("kl", r.metrics().remove("kl_token"));
      return rows;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A loop log's columns as rows. */
  private static List<Row> rows(TrainLog log, String... columns) {
    List<Row> out = new ArrayList<>();
    Table t = log.table();
    for (int i = 0; i < t.rowCount(); i++) {
      Map<String, Double> m = new LinkedHashMap<>();
      for (String c : columns) m.put(c, t.doubleColumn(c).get(i));
      out.add(new Row(i, m));
    }
    return out;
  }

  /** Token-mean KL(un-spliced || spliced) of the plain model on one batch: how hard a splice hits at the start. */
  static double spliceKl(DecoderLM model, Tokenizer tok, List<String[]> texts, int layer, UnaryOperator<NDArray> splice) {
    try (NDManager sm = model.stepScope()) {
      TokenBatch tb = batch(sm, tok, texts);
      NDArray h = model.forward(tb.inputs(), new DecoderLM.Options().stopAfter(layer)).hidden(); // [B, T, D]
      NDArray p = model.resume(h, layer + 1, new DecoderLM.Options()).logits().softmax(-1); // [B, T, V]
      NDArray logq = model.resume(splice.apply(h), layer + 1, new DecoderLM.Options()).logits().logSoftmax(-1);
      NDArray kl = p.mul(p.add(1e-10f).log().sub(logq)).sum(new int[] {-1}); // [B, T]
      return kl.mul(tb.valid()).sum().div(tb.valid().sum()).getFloat();
    }
  }

  /**
   * CoT-free GRPO with the library's {@link Grpo} (Tina's recipe in small): per step, {@code prompts} problems x
   * {@code group} samples at {@code temperature}; reward 1 for a correct final answer (no trace is ever shown);
   * one on-policy update with the k3 KL to the adapter-free base weighted by {@code beta}. The adapter is merged
   * into {@code model}'s weights at the end. {@code tokens} (for the FLOP estimate) counts prompt + completion.
   */
  static List<Row> grpo(DecoderLM model, Tokenizer tok, ArithmeticTask task, LoraConfig loraConfig, int steps, int prompts,
      int group, double temperature, double lrValue, double beta, int maxNew, long seed) {
    Grpo.Config cfg = Grpo.Config.defaults().withLora(loraConfig).withGroups(prompts, group).withMaxNewTokens(maxNew)
        .withTemperature(temperature).withKlBeta(beta).withRounds(steps).withSeed(seed).withTrain(LoraTrainer.Config.of(lrValue).withSaveEvery(0));
    List<dev.resa.eval.Problem> problems = new ArrayList<>();
    double promptTokens = 0;
    for (Problem p : task.problems(ArithmeticTask.Split.TRAIN, steps * prompts, seed * 7919)) {
      problems.add(new dev.resa.eval.Problem(p.expression(), ArithmeticTask.prompt(p), List.of(p.answerText()), List.of(), null));
      promptTokens += withBos(tok, ArithmeticTask.prompt(p)).length / (double) (steps * prompts);
    }
    Grpo.Reward exact = (completion, answer) -> ArithmeticTask.extractAnswer(completion).map(answer::equals).orElse(false) ? 1 : 0;
    List<Double> thinkRate = new ArrayList<>();
    try (Grpo grpo = new Grpo(model, tok, exact, cfg)) {
      grpo.onCompletions(texts -> thinkRate.add(texts.stream().filter(ArithmeticTask::thinks).count() / (double) texts.size()));
      Table t;
      try {
        t = grpo.train(problems).log().table();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      grpo.adapter().merge(model.weights());
      List<Row> log = new ArrayList<>();
      int n = prompts * group;
      for (int i = 0; i < t.rowCount(); i++) {
        double gen = t.doubleColumn("completion_tokens").get(i) * n; // the log keeps the mean per sample
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("reward", t.doubleColumn("reward").get(i));
        m.put("think_rate", thinkRate.get(i));
        m.put("kl", t.doubleColumn("kl").get(i));
        m.put("tokens", gen + promptTokens * n);
        m.put("gen_tokens", gen);
        log.add(new Row(i, m));
      }
      return log;
    }
  }

  private static Map<String, Double> metrics(String k1, double v1, String k2, double v2) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put(k1, v1);
    m.put(k2, v2);
    return m;
  }

  static int[] withBos(Tokenizer tok, String text) {
    int[] t = tok.encode(text);
    int[] s = new int[t.length + 1];
    s[0] = tok.bosId();
    System.arraycopy(t, 0, s, 1, t.length);
    return s;
  }

  private static TokenBatch batch(NDManager sm, Tokenizer tok, List<String[]> pairs) {
    List<String> p = new ArrayList<>(), c = new ArrayList<>();
    for (String[] pc : pairs) {
      p.add(pc[0]);
      c.add(pc[1]);
    }
    return TokenBatch.of(sm, tok, p, c);
  }

  /** The body of one step: returns that step's metrics. */
  private interface StepBody {
    Map<String, Double> run(int step, Random rng);
  }

  private static List<Row> loop(String title, int steps, long seed, StepBody body) {
    List<Row> log = new ArrayList<>();
    Random rng = new Random(seed);
    try (Progress.Bar bar = Progress.start(title, steps)) {
      for (int step = 0; step < steps; step++) {
        Progress.checkInterrupted();
        Map<String, Double> m = body.run(step, rng);
        log.add(new Row(step, m));
        bar.update(step + 1, m);
      }
    }
    return log;
  }

  /** Float activations [rows][D] of layer {@code layer} at every real input position of the given texts. */
  static float[][] activations(DecoderLM model, Tokenizer tok, List<String[]> texts, int layer, int batchSize) {
    List<float[]> rows = new ArrayList<>();
    int d = model.config().hiddenSize();
    for (int i = 0; i < texts.size(); i += batchSize) {
      try (NDManager sm = model.stepScope()) {
        TokenBatch tb = batch(sm, tok, texts.subList(i, Math.min(texts.size(), i + batchSize)));
        float[] h = model.forward(tb.inputs(), new DecoderLM.Options().stopAfter(layer)).hidden().toType(DataType.FLOAT32, false).toFloatArray();
        float[] in = tb.inputs().neq(tok.padId()).toType(DataType.FLOAT32, false).toFloatArray();
        for (int r = 0; r < in.length; r++) {
          if (in[r] == 0) continue;
          float[] row = new float[d];
          System.arraycopy(h, r * d, row, 0, d);
          rows.add(row);
        }
      }
    }
    return rows.toArray(float[][]::new);
  }
}
