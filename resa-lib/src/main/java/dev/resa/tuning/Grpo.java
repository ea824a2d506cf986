package dev.resa.tuning;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.resa.eval.Answers;
import dev.resa.eval.Grader;
import dev.resa.eval.Problem;
import dev.resa.model.DecoderLM;
import dev.resa.model.Generator;
import dev.resa.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import dev.resa.core.Scalars;

/**
 * The CoT-free RL baseline of Resa's Table 3 (Tina: GRPO with LoRA), at small scale. One step:
 *
 * <pre>
 *   for P prompts, sample G completions each from the current policy (temperature sampling)
 *   r_i   = reward(completion_i, answer)                     e.g. exact match, or Tina's 2·accuracy + 1·format
 *   A_i   = (r_i − mean_group(r)) / (std_group(r) + 1e-4)     group-normalised advantage
 *   ratio = π_θ(o_t) / π_old(o_t)                             per completion token
 *   loss  = mean_i mean_t [ −min(ratio A_i, clip(ratio, 1−ε, 1+ε) A_i) + β KL_k3(π_θ ‖ π_ref) ]
 * </pre>
 *
 * π_ref is the same model with the adapter disabled, so the KL term needs no second copy of the weights. With
 * one inner step (the default, as TRL's GRPO) π_old = π_θ detached, so the ratio is 1 and only its gradient acts.
 */
public final class Grpo implements AutoCloseable {
  /**
   * @param lora adapter shape; default r 32, alpha 128, dropout 0.05 on all seven projections (Tina = Resa's setup).
   * @param groupSize G completions per prompt; default 4 (small scale; the advantage needs G ≥ 2).
   * @param promptsPerStep P prompts per sampling round; default 8.
   * @param maxNewTokens completion budget; default 256.
   * @param temperature sampling temperature, also applied to the log-probabilities; default 1.0 (on-policy).
   * @param clipEps PPO clip range ε; default 0.2 (DeepSeekMath / TRL).
   * @param klBeta weight of the k3 KL estimate to the reference (adapter off); default 0.04 (TRL's default then).
   * @param innerSteps optimizer steps per sampling round (μ); default 1 (TRL's GRPO).
   * @param rounds sampling rounds; default 100.
   * @param seed drives prompt order and sampling; default 42.
   * @param train the loop: lr 1e-6 (Tina's peak), constant, AdamW decay 0.01, clip 1.0; one loop step per inner step
   *     ({@link Grpo#tinaLoop} is Tina's schedule and decay).
   */
  public record Config(LoraConfig lora, int groupSize, int promptsPerStep, int maxNewTokens, double temperature,
                       double clipEps, double klBeta, int innerSteps, int rounds, long seed, LoraTrainer.Config train) {
    public Config {
      if (groupSize < 2) throw new IllegalArgumentException("GRPO needs a group of at least 2 samples per prompt, got " + groupSize);
      if (promptsPerStep <= 0 || maxNewTokens <= 0 || innerSteps <= 0 || rounds <= 0) {
        throw new IllegalArgumentException("promptsPerStep, maxNewTokens, innerSteps and rounds must be positive");
      }
      if (!(temperature > 0)) throw new IllegalArgumentException("GRPO samples: temperature must be > 0, got " + temperature);
    }

    public static Config defaults() {
      return new Config(LoraConfig.resa(), 4, 8, 256, 1.0, 0.2, 0.04, 1, 100, 42, LoraTrainer.Config.of(1e-6));
    }

    public Config withLora(LoraConfig v) {
      return new Config(v, groupSize, promptsPerStep, maxNewTokens, temperature, clipEps, klBeta, innerSteps, rounds, seed, train);
    }

    /** {@code prompts} prompts per round, {@code group} samples each. */
    public Config withGroups(int prompts, int group) {
      return new Config(lora, group, prompts, maxNewTokens, temperature, clipEps, klBeta, innerSteps, rounds, seed, train);
    }

    public Config withMaxNewTokens(int v) {
      return new Config(lora, groupSize, promptsPerStep, v, temperature, clipEps, klBeta, innerSteps, rounds, seed, train);
    }

    public Config withTemperature(double v) {
      return new Config(lora, groupSize, promptsPerStep, maxNewTokens, v, clipEps, klBeta, innerSteps, rounds, seed, train);
    }

    public Config withKlBeta(double v) {
      return new Config(lora, groupSize, promptsPerStep, maxNewTokens, temperature, clipEps, v, innerSteps, rounds, seed, train);
    }

    public Config withRounds(int v) {
      return new Config(lora, groupSize, promptsPerStep, maxNewTokens, temperature, clipEps, klBeta, innerSteps, v, seed, train);
    }

    public Config withSeed(long v) {
      return new Config(lora, groupSize, promptsPerStep, maxNewTokens, temperature, clipEps, klBeta, innerSteps, rounds, v, train);
    }

    public Config withLr(double v) {
      return withTrain(train.withLr(v));
    }

    public Config withTrain(LoraTrainer.Config v) {
      return new Config(lora, groupSize, promptsPerStep, maxNewTokens, temperature, clipEps, klBeta, innerSteps, rounds, seed, v);
    }
  }


  /**
   * Scores a completion's text against the gold answer (1 = correct). Problems are {@link Problem}s: the
   * {@code problem} text is the prompt, fed as is after BOS; the first of {@code answers} is the gold answer.
   */
  @FunctionalInterface
  public interface Reward {
    double score(String completion, String answer);

    /** The weighted sum Σ_j w_j r_j of {@code terms}, each term's mean logged per round (see {@link Weighted}). */
    static Weighted weighted(Term... terms) {
      return new Weighted(List.of(terms));
    }
  }

  /**
   * One term w_j r_j of a {@link Weighted} reward.
   *
   * @param name the term's column in the training log (e.g. {@code accuracy}); not {@code reward}, which is the sum.
   * @param weight w_j, finite (e.g. 2.0 for Tina's accuracy term).
   * @param reward r_j.
   */
  public record Term(String name, double weight, Reward reward) {
    public Term {
      if (name == null || name.isBlank() || name.equals("reward")) throw new IllegalArgumentException("a term needs its own log column name, got '" + name + "'");
      if (!Double.isFinite(weight)) throw new IllegalArgumentException("weight of " + name + " must be finite, got " + weight);
    }
  }

  /**
   * r = Σ_j w_j r_j, as TRL's GRPOTrainer combines {@code reward_funcs} with {@code reward_weights}. {@link #train} logs
   * the round's mean of every unweighted r_j in a column named after its term, next to the weighted {@code reward}.
   */
  public record Weighted(List<Term> terms) implements Reward {
    public Weighted {
      terms = List.copyOf(terms);
      if (terms.isEmpty()) throw new IllegalArgumentException("a weighted reward needs at least one term");
      if (terms.stream().map(Term::name).distinct().count() != terms.size()) throw new IllegalArgumentException("term names must differ: " + terms);
    }

    @Override
    public double score(String completion, String answer) {
      return sum(scores(completion, answer));
    }

    /** The unweighted r_j, in term order. */
    public double[] scores(String completion, String answer) {
      double[] r = new double[terms.size()];
      for (int j = 0; j < r.length; j++) r[j] = terms.get(j).reward().score(completion, answer);
      return r;
    }

    /** Σ_j w_j r_j of unweighted scores {@code r}. */
    public double sum(double[] r) {
      double s = 0;
      for (int j = 0; j < r.length; j++) s += terms.get(j).weight() * r[j];
      return s;
    }
  }

  /** Tina's weight of the accuracy reward: 2.0 (Tina's recipes' {@code rl_post_train_reward_weights}; Resa's ModelPTConfig default). */
  public static final double TINA_ACCURACY_WEIGHT = 2.0;

  /** Tina's weight of the format reward: 1.0 (same source), so a correct answer counts twice a well-formed one. */
  public static final double TINA_FORMAT_WEIGHT = 1.0;

  /** Tina's warm-up: 10 % of the planned steps ({@code warmup_ratio: 0.1} in Tina's GRPO recipes). */
  public static final double TINA_WARMUP_RATIO = 0.1;

  /** Tina's cosine floor: 10 % of the peak lr ({@code lr_scheduler_type: cosine_with_min_lr}, {@code min_lr_rate: 0.1}). */
  public static final double TINA_MIN_LR_RATIO = 0.1;

  /**
   * Tina's schedule spans twice the steps it runs: "use 11000 for lr scheduler but stop at 5500 steps" (DeepScaleR
   * recipe; STILL: 7500 / 3750), so the lr ends about 63 % of the way from the floor to the peak, mid-decay.
   */
  public static final double TINA_SCHEDULE_HORIZON = 2.0;

  /** Tina's sampling temperature during GRPO: 0.7 ({@code temperature: 0.7} in Tina's GRPO recipes). */
  public static final double TINA_TEMPERATURE = 0.7;

  /**
   * Tina's GRPO loop at peak lr {@code lr}: linear warm-up over 10 % of the planned steps, cosine to 10 % of
   * {@code lr}, planned over twice the steps run, and no weight decay (Tina's recipes set none: the HF Trainer
   * default 0). Source: shangshang-wang/Tina, {@code recipes/DeepSeek-R1-Distill-Qwen-1.5B/grpo/model_curated_*.yaml}
   * (Tina, arXiv 2504.15777, trains every model with "a single, fixed set of hyperparameters").
   */
  public static LoraTrainer.Config tinaLoop(double lr) {
    return LoraTrainer.Config.of(lr).withSchedule(LoraTrainer.Schedule.COSINE, TINA_WARMUP_RATIO, TINA_MIN_LR_RATIO)
        .withHorizon(TINA_SCHEDULE_HORIZON).withWeightDecay(0);
  }

  /** Default reward: 1 when the answer a completion commits to ({@link Answers#extract}) equals the gold answer exactly. */
  public static Reward exactMatch() {
    return (completion, answer) -> Answers.extract(completion).map(a -> a.equals(answer.trim())).orElse(false) ? 1.0 : 0.0;
  }

  /**
   * The evaluation's checker as a reward: the answer a completion commits to ({@link Answers#extract}) compared
   * with the gold answer by mathematical equivalence ({@link Grader}, with its per-comparison timeout).
   */
  public static Reward mathEquivalence() {
    Grader grader = new Grader();
    return (completion, answer) -> Answers.extract(completion).map(a -> grader.equal(a, answer)).orElse(false) ? 1.0 : 0.0;
  }

  private final DecoderLM model;
  private final Tokenizer tokenizer;
  private final Reward reward;
  private final Config config;
  private final Lora lora;
  private final LoraTrainer trainer;
  private java.util.function.Consumer<List<String>> completionListener = texts -> {};

  /** Creates a fresh adapter and installs it on {@code model}. */
  public Grpo(DecoderLM model, Tokenizer tokenizer, Reward reward, Config config) {
    if (tokenizer.vocabSize() > model.config().vocabSize()) {
      throw new IllegalArgumentException("tokenizer has " + tokenizer.vocabSize() + " tokens but the model's vocabulary is " + model.config().vocabSize());
    }
    this.model = model;
    this.tokenizer = tokenizer;
    this.reward = reward;
    this.config = config;
    DataType dtype = model.weights().get("model.embed_tokens.weight").getDataType();
    this.lora = Lora.create(config.lora(), model.config(), model.manager(), dtype).attachTo(model);
    this.trainer = new LoraTrainer(model, lora, config.train(), "GRPO");
  }

  /** The training loop (its live log, a per-step listener). */
  public LoraTrainer trainer() {
    return trainer;
  }

  public Lora adapter() {
    return lora;
  }

  /**
   * Hands each sampling round's completion texts (stop tokens stripped, in sample order: prompt-major, G per
   * prompt) to {@code listener} before the update, for statistics the log does not keep (e.g. how many reason).
   */
  public Grpo onCompletions(java.util.function.Consumer<List<String>> listener) {
    this.completionListener = listener;
    return this;
  }

  /** Prompt ids: BOS (when the tokenizer has one) then the prompt text. */
  int[] encodePrompt(String prompt) {
    int[] body = tokenizer.encode(prompt);
    if (tokenizer.bosId() < 0) return body;
    int[] out = new int[body.length + 1];
    out[0] = tokenizer.bosId();
    System.arraycopy(body, 0, out, 1, body.length);
    return out;
  }

  private Set<Integer> stops() {
    return tokenizer.eosId() >= 0 ? Set.of(tokenizer.eosId()) : Set.of();
  }

  /** The completion's text without stop tokens. */
  String text(int[] completion) {
    int n = completion.length;
    while (n > 0 && stops().contains(completion[n - 1])) n--;
    return tokenizer.decode(java.util.Arrays.copyOf(completion, n));
  }

  /** Mean reward of {@code samples} completions per problem at {@code temperature} (0 = greedy), with the adapter on. */
  public double meanReward(List<Problem> problems, int samples, double temperature, long seed) {
    List<int[]> prompts = new ArrayList<>();
    for (Problem p : problems) for (int s = 0; s < samples; s++) prompts.add(encodePrompt(p.problem()));
    List<int[]> out = new Generator(model).generate(prompts,
        new Generator.Sampling(config.maxNewTokens(), temperature, 1.0, stops(), seed));
    double sum = 0;
    for (int i = 0; i < out.size(); i++) sum += reward.score(text(out.get(i)), problems.get(i / samples).answers().get(0));
    return sum / out.size();
  }

  /**
   * Runs {@link Config#rounds} sampling rounds over {@code problems} (shuffled once per pass, seeded), each followed
   * by {@link Config#innerSteps} loop steps. The log's {@code loss} is the clipped surrogate plus the KL term;
   * {@code reward} is the round's mean reward (and, for a {@link Weighted} reward, each term's unweighted mean in its
   * own column). Round r's prompts and sampling seed depend only on r, so a resumed run
   * (at a round boundary) draws what an uninterrupted one would.
   */
  public LoraTrainer.Result train(List<Problem> problems) throws IOException {
    if (problems.isEmpty()) throw new IllegalArgumentException("no problems to train on");
    int inner = config.innerSteps();
    Rollouts[] current = new Rollouts[1];
    long[] currentRound = {-1};
    return trainer.run((step, scope) -> {
      long round = step / inner;
      if (round != currentRound[0]) {
        current[0] = rollout(promptsOfRound(problems, round), config.seed() * 1_000_003L + round + 1);
        currentRound[0] = round;
      }
      Rollouts r = current[0];
      double[] lk = backward(scope, r);
      Map<String, Double> metrics = new LinkedHashMap<>();
      metrics.put("reward", r.meanReward);
      metrics.putAll(r.termMeans()); // a weighted reward's unweighted terms, one column each
      metrics.put("kl", lk[1]);
      metrics.put("completion_tokens", r.completionTokens);
      long tokens = 0;
      for (int[] seq : r.sequences()) tokens += seq.length;
      return new LoraTrainer.Step(lk[0], tokens, metrics);
    }, (long) config.rounds() * inner);
  }

  /** The prompts of round {@code round}: passes over the problems, each pass in a fresh seeded shuffle. */
  private List<Problem> promptsOfRound(List<Problem> problems, long round) {
    Random rng = new Random(config.seed());
    List<Problem> order = new ArrayList<>(problems);
    long first = round * config.promptsPerStep();
    long pass = -1;
    List<Problem> batch = new ArrayList<>();
    for (long i = first; i < first + config.promptsPerStep(); i++) {
      long p = i / order.size();
      while (pass < p) {
        Collections.shuffle(order, rng);
        pass++;
      }
      batch.add(order.get((int) (i % order.size())));
    }
    return batch;
  }

  /** Sampled sequences (prompt + completion), where each completion starts, and the advantages. */
  private record Rollouts(List<int[]> sequences, int[] promptLength, int[] completionLength, double[] advantage,
                          double meanReward, Map<String, Double> termMeans, double completionTokens, float[] oldLogp) {}

  private Rollouts rollout(List<Problem> batch, long seed) {
    int g = config.groupSize();
    List<int[]> prompts = new ArrayList<>();
    for (Problem p : batch) for (int i = 0; i < g; i++) prompts.add(encodePrompt(p.problem()));
    List<int[]> completions = new Generator(model).generate(prompts,
        new Generator.Sampling(config.maxNewTokens(), config.temperature(), 1.0, stops(), seed));
    int n = prompts.size();
    double[] rewards = new double[n];
    double sum = 0, tokens = 0;
    List<int[]> sequences = new ArrayList<>();
    List<String> texts = new ArrayList<>(n);
    int[] pl = new int[n], cl = new int[n];
    double[] termSums = new double[reward instanceof Weighted w ? w.terms().size() : 0];
    for (int i = 0; i < n; i++) {
      int[] c = completions.get(i);
      texts.add(text(c));
      String answer = batch.get(i / g).answers().get(0);
      if (reward instanceof Weighted w) {
        double[] r = w.scores(texts.get(i), answer);
        for (int j = 0; j < r.length; j++) termSums[j] += r[j];
        rewards[i] = w.sum(r);
      } else {
        rewards[i] = reward.score(texts.get(i), answer);
      }
      sum += rewards[i];
      tokens += c.length;
      int[] seq = new int[prompts.get(i).length + c.length];
      System.arraycopy(prompts.get(i), 0, seq, 0, prompts.get(i).length);
      System.arraycopy(c, 0, seq, prompts.get(i).length, c.length);
      sequences.add(seq);
      pl[i] = prompts.get(i).length;
      cl[i] = c.length;
    }
    completionListener.accept(texts);
    double[] adv = new double[n];
    for (int p = 0; p < batch.size(); p++) {
      double mean = 0;
      for (int i = 0; i < g; i++) mean += rewards[p * g + i];
      mean /= g;
      double var = 0;
      for (int i = 0; i < g; i++) var += Math.pow(rewards[p * g + i] - mean, 2);
      double std = Math.sqrt(var / (g - 1)); // unbiased, as torch.std in TRL
      for (int i = 0; i < g; i++) adv[p * g + i] = (rewards[p * g + i] - mean) / (std + 1e-4);
    }
    Map<String, Double> termMeans = new LinkedHashMap<>();
    for (int j = 0; j < termSums.length; j++) termMeans.put(((Weighted) reward).terms().get(j).name(), termSums[j] / n);
    Rollouts r = new Rollouts(sequences, pl, cl, adv, sum / n, termMeans, tokens / n, null);
    if (config.innerSteps() == 1) return r;
    try (NDManager scope = model.stepScope()) { // π_old for several inner steps: fixed before the first update
      Batch b = batch(scope, r);
      float[] old = tokenLogp(b).toType(DataType.FLOAT32, false).toFloatArray();
      return new Rollouts(sequences, pl, cl, adv, r.meanReward, termMeans, r.completionTokens, old);
    }
  }

  /** Right-padded inputs [N, L], next-token targets [N, L-1] and the completion mask [N, L-1]. */
  private record Batch(NDArray inputs, NDArray targets, NDArray mask, NDArray advantage) {}

  private Batch batch(NDManager scope, Rollouts r) {
    int n = r.sequences().size();
    int len = 0;
    for (int[] s : r.sequences()) len = Math.max(len, s.length);
    int pad = Math.max(0, tokenizer.padId());
    long[] ids = new long[n * len];
    float[] mask = new float[n * (len - 1)];
    for (int i = 0; i < n; i++) {
      int[] s = r.sequences().get(i);
      for (int t = 0; t < len; t++) ids[i * len + t] = t < s.length ? s[t] : pad;
      for (int t = 0; t < len - 1; t++) { // target t+1 is a completion token
        int target = t + 1;
        mask[i * (len - 1) + t] = target >= r.promptLength()[i] && target < s.length ? 1 : 0;
      }
    }
    NDArray tokens = scope.create(ids, new Shape(n, len)); // [N, L]
    DataType dtype = model.weights().get("model.embed_tokens.weight").getDataType();
    float[] adv = new float[n];
    for (int i = 0; i < n; i++) adv[i] = (float) r.advantage()[i];
    return new Batch(tokens, tokens.get(":, 1:"), scope.create(mask, new Shape(n, len - 1)).toType(dtype, true),
        scope.create(adv, new Shape(n, 1)).toType(dtype, true));
  }

  /** log π(target) per position, [N, L-1], at the sampling temperature. */
  private NDArray tokenLogp(Batch b) {
    NDArray logits = model.logits(b.inputs()); // [N, L, V]; right padding never leaks into earlier positions
    NDArray scaled = logits.get(":, :-1, :").mul(Scalars.of(logits, 1 / config.temperature())); // [N, L-1, V]
    return scaled.logSoftmax(-1).gather(b.targets().expandDims(-1), -1).squeeze(-1); // [N, L-1]
  }

  /** Loss and gradients of the rollouts in {@code scope}; returns {loss, kl}. */
  private double[] backward(NDManager scope, Rollouts r) {
    {
      Batch b = batch(scope, r);
      NDArray ref = null;
      if (config.klBeta() > 0) {
        try (AutoCloseable off = model.disableAdapter()) {
          ref = tokenLogp(b); // [N, L-1], no gradient outside the collector
        } catch (Exception e) {
          throw e instanceof RuntimeException x ? x : new IllegalStateException(e);
        }
      }
      NDArray loss, klMean;
      lora.train(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray logp = tokenLogp(b); // [N, L-1]
        NDArray old = r.oldLogp() == null ? logp.stopGradient()
            : scope.create(r.oldLogp(), logp.getShape()).toType(logp.getDataType(), false);
        NDArray ratio = logp.sub(old).exp(); // [N, L-1]
        NDArray unclipped = ratio.mul(b.advantage());
        NDArray clipped = ratio.clip(1 - config.clipEps(), 1 + config.clipEps()).mul(b.advantage());
        NDArray perToken = unclipped.minimum(clipped).neg(); // [N, L-1]
        NDArray kl = null;
        if (ref != null) {
          NDArray d = ref.sub(logp);
          kl = d.exp().sub(d).sub(1); // k3 estimate of KL(π_θ ‖ π_ref), >= 0
          perToken = perToken.add(kl.mul(Scalars.of(kl, config.klBeta())));
        }
        NDArray tokensPerSeq = b.mask().sum(new int[] {1}).maximum(1); // [N]
        loss = perToken.mul(b.mask()).sum(new int[] {1}).div(tokensPerSeq).mean();
        klMean = kl == null ? null : kl.mul(b.mask()).sum(new int[] {1}).div(tokensPerSeq).mean();
        gc.backward(loss);
      } finally {
        lora.train(false);
      }
      return new double[] {SaeTuning.scalar(loss), klMean == null ? 0 : SaeTuning.scalar(klMean)};
    }
  }

  /** Saves the adapter (PEFT format). */
  public void save(Path dir, String baseModelName) throws IOException {
    lora.save(dir, baseModelName);
  }

  @Override
  public void close() {
    if (model.adapter() == lora) model.setAdapter(null);
    lora.close();
  }
}
