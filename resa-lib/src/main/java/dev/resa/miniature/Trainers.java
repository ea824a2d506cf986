package dev.resa.miniature;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.resa.core.Scalars;
import dev.resa.model.DecoderLM;
import dev.resa.model.Generator;
import dev.resa.task.ArithmeticTask;
import dev.resa.task.ArithmeticTask.Problem;
import dev.resa.tokenizer.Tokenizer;
import dev.resa.train.AdamW;
import dev.resa.train.Gradients;
import dev.resa.train.LmTrainer;
import dev.resa.train.Progress;
import dev.resa.tuning.Lora;
import dev.resa.tuning.LoraConfig;
import dev.resa.tuning.SaeTuning;
import dev.resa.tuning.Sft;
import dev.resa.tuning.Splice;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The miniature's own small training loops (pretraining, SFT, SAE-Tuning, GRPO), written against the decoder
 * directly. They are stand-ins, kept deliberately short, until the library's LmTrainer / SaeTuning / Sft / Grpo
 * land on main. Each returns its log as rows of named metrics, one row per step.
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
    Sft.Config cfg = new Sft.Config(loraConfig, lrValue, 0.01, 1.0, 1, 1, 0, 0, null, "");
    try (Sft sft = new Sft(model, cfg); AdamW opt = new AdamW(AdamW.Config.torchDefaults(lrValue), model.manager())) {
      List<NDArray> params = sft.adapter().parameters();
      List<Row> log = loop(title, steps, seed, (step, rng) -> {
        try (NDManager sm = model.stepScope()) {
          TokenBatch tb = batch(sm, tok, data.apply(rng));
          double loss = sft.backward(tb.inputs(), tb.targets(), tb.completion());
          Gradients.clipGlobalNorm(params, 1.0);
          opt.step(params, lrValue);
          return metrics("loss", loss, "tokens", tb.valid().sum().getFloat());
        }
      });
      sft.adapter().merge(model.weights());
      return log;
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
    SaeTuning.Config cfg = new SaeTuning.Config(layer, loraConfig, lrValue, 0.01, 1.0, 1, 1,
        SaeTuning.Schedule.CONSTANT, 0, true, 0, null, "");
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
    try (SaeTuning tuning = new SaeTuning(model, frozen, cfg);
        AdamW opt = new AdamW(AdamW.Config.torchDefaults(lrValue), model.manager())) {
      List<NDArray> params = tuning.adapter().parameters();
      List<Row> log = loop(title, steps, seed, (step, rng) -> {
        try (NDManager sm = model.stepScope()) {
          TokenBatch tb = batch(sm, tok, data.apply(rng));
          SaeTuning.Measured m = tuning.backward(tb.inputs(), tb.valid());
          Gradients.clipGlobalNorm(params, 1.0);
          opt.step(params, lrValue);
          double tokens = tb.valid().sum().getFloat();
          return metrics("kl", m.kl() * tb.inputs().getShape().get(0) / tokens, "tokens", tokens); // Σ KL / B -> token mean
        }
      });
      tuning.adapter().merge(model.weights());
      return log;
    }
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
   * CoT-free GRPO with LoRA (Tina's recipe in small): per step, {@code prompts} problems x {@code group} samples at
   * {@code temperature}; reward 1 for a correct final answer (no trace is ever shown); advantages normalised
   * within each group; one on-policy update of -A log pi + beta * KL(pi || base) (k3 estimator) per token.
   */
  static List<Row> grpo(DecoderLM model, Tokenizer tok, ArithmeticTask task, Lora lora, int steps, int prompts, int group,
      double temperature, double lrValue, double beta, int maxNew, long seed, String title) {
    model.setAdapter(lora);
    Generator gen = new Generator(model);
    try (AdamW opt = new AdamW(AdamW.Config.torchDefaults(lrValue), model.manager())) {
      return loop(title, steps, seed, (step, rng) -> {
        List<Problem> probs = new ArrayList<>();
        List<int[]> promptIds = new ArrayList<>();
        for (Problem p : task.problems(ArithmeticTask.Split.TRAIN, prompts, seed * 7919 + step)) {
          for (int g = 0; g < group; g++) {
            probs.add(p);
            promptIds.add(withBos(tok, ArithmeticTask.prompt(p)));
          }
        }
        List<int[]> outs = gen.generate(promptIds, new Generator.Sampling(maxNew, temperature, 1.0, Set.of(tok.eosId()), seed * 31 + step));
        int n = probs.size();
        double[] reward = new double[n];
        double thinks = 0;
        for (int i = 0; i < n; i++) {
          String text = tok.decode(outs.get(i));
          reward[i] = ArithmeticTask.isCorrect(probs.get(i), text) ? 1 : 0;
          thinks += ArithmeticTask.thinks(text) ? 1 : 0;
        }
        float[] adv = new float[n];
        for (int g0 = 0; g0 < n; g0 += group) {
          double mean = 0, var = 0;
          for (int i = g0; i < g0 + group; i++) mean += reward[i] / group;
          for (int i = g0; i < g0 + group; i++) var += (reward[i] - mean) * (reward[i] - mean) / group;
          for (int i = g0; i < g0 + group; i++) adv[i] = (float) ((reward[i] - mean) / (Math.sqrt(var) + 1e-4));
        }
        double meanReward = 0;
        for (double r : reward) meanReward += r / n;
        double kl;
        double tokens;
        double genTokens = 0;
        for (int[] o : outs) genTokens += o.length;
        try (NDManager sm = model.stepScope()) {
          List<int[]> seqs = new ArrayList<>();
          int[] promptLens = new int[n];
          for (int i = 0; i < n; i++) {
            int[] p = promptIds.get(i), c = outs.get(i);
            int[] s = new int[p.length + c.length];
            System.arraycopy(p, 0, s, 0, p.length);
            System.arraycopy(c, 0, s, p.length, c.length);
            seqs.add(s);
            promptLens[i] = p.length;
          }
          TokenBatch tb = TokenBatch.ofTokens(sm, seqs, promptLens, tok.padId());
          NDArray ref;
          try (AutoCloseable off = model.disableAdapter()) {
            ref = tokenLogp(model.logits(tb.inputs()), tb.targets()); // [B, T]
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          NDArray a = sm.create(adv, new Shape(n, 1)); // [B, 1]
          NDArray mask = tb.completion(); // [B, T]
          NDArray perSeq = mask.sum(new int[] {1}).maximum(1); // [B]
          NDArray loss;
          NDArray klMean;
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray logp = tokenLogp(model.logits(tb.inputs()), tb.targets()); // [B, T]
            NDArray diff = ref.sub(logp); // [B, T]
            NDArray k3 = diff.exp().sub(diff).sub(1); // [B, T], >= 0
            NDArray perTok = logp.mul(a).neg().add(k3.mul(Scalars.of(k3, beta))); // [B, T]
            loss = perTok.mul(mask).sum(new int[] {1}).div(perSeq).mean();
            klMean = k3.mul(mask).sum().div(mask.sum());
            gc.backward(loss);
          }
          Gradients.clipGlobalNorm(lora.parameters(), 1.0);
          opt.step(lora.parameters(), lrValue);
          kl = klMean.getFloat();
          tokens = tb.valid().sum().getFloat();
        }
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("reward", meanReward);
        m.put("think_rate", thinks / n);
        m.put("kl", kl);
        m.put("tokens", tokens);
        m.put("gen_tokens", genTokens);
        return m;
      });
    } finally {
      model.setAdapter(null);
    }
  }

  private static Map<String, Double> metrics(String k1, double v1, String k2, double v2) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put(k1, v1);
    m.put(k2, v2);
    return m;
  }

  static NDArray tokenLogp(NDArray logits, NDArray targets) {
    return logits.logSoftmax(-1).gather(targets.expandDims(-1), -1).squeeze(-1); // [B, T]
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
