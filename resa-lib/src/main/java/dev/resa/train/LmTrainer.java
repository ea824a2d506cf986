package dev.resa.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.resa.io.SafeTensors;
import dev.resa.model.DecoderLM;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Next-token language-model training on packed token chunks (see {@code dev.resa.activations.Packing}), in the
 * nanoGPT mould: AdamW with decoupled weight decay on matrices only, global-norm clipping, linear warm-up then
 * cosine decay, one per-step native-memory scope.
 *
 * <p>Everything is a function of the seed and the step: batch {@code s} holds the chunks at positions
 * {@code s*B .. s*B+B-1} of an endless sequence of seeded epoch permutations, so a checkpoint needs only the
 * weights, the AdamW moments and the step, and resuming reproduces the loss curve of a run that never stopped.
 * A checkpoint is one safetensors file written atomically (temp file + rename), with the log inside its metadata.
 */
public final class LmTrainer implements AutoCloseable {
  /** File name of the trainer state inside {@link Config#checkpointDir}. */
  public static final String STATE_FILE = "trainer-state.safetensors";

  /**
   * @param steps optimizer updates to run in total (default 1000; tiny models learn synthetic tasks in a few hundred).
   * @param batchSize chunks per step (default 16: enough tokens per step for a stable gradient on CPU).
   * @param lr peak learning rate (default 1e-3, nanoGPT's value for small character models).
   * @param minLrRatio final learning rate as a fraction of {@code lr} (default 0.1, as nanoGPT and Chinchilla).
   * @param warmup linear warm-up steps (default 100; AdamW's second moment is noisy early on).
   * @param weightDecay decoupled weight decay on matrices, never on norms and biases (default 0.1, nanoGPT).
   * @param beta1 AdamW first-moment decay (default 0.9).
   * @param beta2 AdamW second-moment decay (default 0.99: nanoGPT's choice for small batches of few tokens).
   * @param gradClip global gradient-norm limit, 0 to disable (default 1.0, the GPT-2/Llama value).
   * @param seed seeds the data order (model initialisation is seeded by whoever builds the weights) (default 0).
   * @param checkpointEvery steps between checkpoints; 0 writes only at the end and on interrupt (default 0).
   * @param checkpointDir where {@value #STATE_FILE} goes, or null for no checkpoints (default null).
   */
  public record Config(int steps, int batchSize, double lr, double minLrRatio, int warmup, double weightDecay,
      double beta1, double beta2, double gradClip, long seed, int checkpointEvery, Path checkpointDir) {
    public Config {
      if (steps <= 0 || batchSize <= 0) throw new IllegalArgumentException("steps and batchSize must be positive");
      if (lr <= 0) throw new IllegalArgumentException("lr must be positive, got " + lr);
      if (warmup < 0 || checkpointEvery < 0) throw new IllegalArgumentException("warmup and checkpointEvery must be >= 0");
    }

    public static Config defaults() {
      return new Config(1000, 16, 1e-3, 0.1, 100, 0.1, 0.9, 0.99, 1.0, 0, 0, null);
    }

    public Config withSteps(int s) {
      return new Config(s, batchSize, lr, minLrRatio, warmup, weightDecay, beta1, beta2, gradClip, seed, checkpointEvery, checkpointDir);
    }

    public Config withBatch(int b) {
      return new Config(steps, b, lr, minLrRatio, warmup, weightDecay, beta1, beta2, gradClip, seed, checkpointEvery, checkpointDir);
    }

    public Config withLr(double peak, int warmupSteps) {
      return new Config(steps, batchSize, peak, minLrRatio, warmupSteps, weightDecay, beta1, beta2, gradClip, seed, checkpointEvery, checkpointDir);
    }

    public Config withSeed(long s) {
      return new Config(steps, batchSize, lr, minLrRatio, warmup, weightDecay, beta1, beta2, gradClip, s, checkpointEvery, checkpointDir);
    }

    /** AdamW's decoupled weight decay (matrices only) and moment decays. */
    public Config withAdamW(double decay, double b1, double b2) {
      return new Config(steps, batchSize, lr, minLrRatio, warmup, decay, b1, b2, gradClip, seed, checkpointEvery, checkpointDir);
    }

    public Config withCheckpoints(Path dir, int every) {
      return new Config(steps, batchSize, lr, minLrRatio, warmup, weightDecay, beta1, beta2, gradClip, seed, every, dir);
    }

    public LrSchedule schedule() {
      return LrSchedule.cosine(lr, lr * minLrRatio, warmup, steps);
    }
  }

  private final DecoderLM model;
  private final Config config;
  private final List<long[]> chunks;
  private final int chunkLen;
  private final Map<String, NDArray> params;
  private final List<NDArray> decay = new ArrayList<>();
  private final List<NDArray> noDecay = new ArrayList<>();
  private final AdamW adamDecay;
  private final AdamW adamNoDecay;
  private final LrSchedule schedule;
  private TrainLog log = new TrainLog("train");
  private int step;
  private int permEpoch = -1;
  private int[] perm;

  /** Trains every weight of {@code model}. */
  public LmTrainer(DecoderLM model, Config config, List<long[]> chunks) {
    this(model, config, chunks, model.weights().asMap());
  }

  /**
   * Trains only {@code trainable} (name to leaf array, e.g. an adapter's parameters); the rest stays frozen.
   * Every chunk must have the same length, at least 2 (inputs are {@code chunk[:-1]}, targets {@code chunk[1:]}).
   */
  public LmTrainer(DecoderLM model, Config config, List<long[]> chunks, Map<String, NDArray> trainable) {
    this(model, config, requireChunks(chunks), trainable, 0);
  }

  /**
   * A trainer of every weight for callers that bring their own batches (e.g. right-padded prompt / completion
   * pairs with a loss mask) through {@link #trainStep(NDArray, NDArray, NDArray)}. It holds no chunks, so
   * {@link #trainStep()} and {@link #train()} are unavailable; schedule, optimiser and clipping are as configured.
   */
  public static LmTrainer forBatches(DecoderLM model, Config config) {
    return new LmTrainer(model, config, List.of(), model.weights().asMap(), 0);
  }

  private LmTrainer(DecoderLM model, Config config, List<long[]> chunks, Map<String, NDArray> trainable, int unused) {
    this.chunkLen = chunks.isEmpty() ? 0 : chunks.get(0).length;
    this.model = model;
    this.config = config;
    this.chunks = chunks;
    this.params = new LinkedHashMap<>(trainable);
    model.weights().setTrainable(name -> false);
    for (NDArray p : params.values()) {
      p.setRequiresGradient(true);
      (p.getShape().dimension() >= 2 ? decay : noDecay).add(p);
    }
    NDManager m = model.manager();
    this.adamDecay = new AdamW(new AdamW.Config(config.lr(), config.beta1(), config.beta2(), 1e-8, config.weightDecay()), m);
    this.adamNoDecay = new AdamW(new AdamW.Config(config.lr(), config.beta1(), config.beta2(), 1e-8, 0), m);
    this.schedule = config.schedule();
  }

  private static List<long[]> requireChunks(List<long[]> chunks) {
    if (chunks.isEmpty()) throw new IllegalArgumentException("no training chunks: the corpus is shorter than one chunk");
    int chunkLen = chunks.get(0).length;
    if (chunkLen < 2) throw new IllegalArgumentException("chunks need at least 2 tokens, got " + chunkLen);
    for (int i = 0; i < chunks.size(); i++) {
      if (chunks.get(i).length != chunkLen) {
        throw new IllegalArgumentException("chunk " + i + " has " + chunks.get(i).length + " tokens, expected " + chunkLen);
      }
    }
    return chunks;
  }

  /** Updates done so far. */
  public int step() {
    return step;
  }

  public TrainLog log() {
    return log;
  }

  /** Runs the remaining steps up to {@link Config#steps}, with a progress bar; returns the log. */
  public TrainLog train() throws IOException {
    try (Progress.Bar bar = Progress.start("train-lm", config.steps())) {
      while (step < config.steps()) {
        try {
          Progress.checkInterrupted();
        } catch (Progress.TrainingInterruptedException e) {
          if (config.checkpointDir() != null) saveCheckpoint(config.checkpointDir().resolve(STATE_FILE));
          throw e;
        }
        StepResult r = trainStep();
        bar.update(step, Map.of("loss", r.loss(), "lr", r.lr()));
        boolean due = config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0;
        if (config.checkpointDir() != null && (due || step == config.steps())) {
          saveCheckpoint(config.checkpointDir().resolve(STATE_FILE));
        }
      }
    }
    return log;
  }

  /** What one update did: the mean loss of its batch, the learning rate used, the gradient norm before clipping. */
  public record StepResult(double loss, double lr, double gradNorm) {}

  /** One optimizer update on the next batch. */
  public StepResult trainStep() {
    if (chunks.isEmpty()) throw new IllegalStateException("this trainer has no chunks (forBatches): call trainStep(inputs, targets, mask)");
    int b = config.batchSize();
    long[] batch = new long[b * chunkLen];
    for (int i = 0; i < b; i++) {
      System.arraycopy(chunks.get(sampleIndex((long) step * b + i)), 0, batch, i * chunkLen, chunkLen);
    }
    try (NDManager scope = model.stepScope()) {
      NDArray tokens = scope.create(batch, new Shape(b, chunkLen)); // [B, L]
      return trainStep(tokens.get(":, :-1"), tokens.get(":, 1:"), null); // inputs, targets [B, L-1]
    }
  }

  /**
   * One optimizer update on a caller-supplied batch: mean cross-entropy of {@code targets} [B, T] given
   * {@code inputs} [B, T] (int64) over positions where {@code mask} [B, T] is 1 (null = all). The arrays may live
   * in the caller's {@link DecoderLM#stepScope()}; the step runs in its own.
   */
  public StepResult trainStep(NDArray inputs, NDArray targets, NDArray mask) {
    long start = System.nanoTime();
    double lr = schedule.at(step);
    double loss, norm;
    try (NDManager scope = model.stepScope()) {
      for (NDArray p : params.values()) {
        if (p.getManager() != scope) p.tempAttach(scope);
      }
      NDArray lossArray;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        lossArray = Losses.crossEntropy(model.logits(inputs), targets, mask); // scalar
        gc.backward(lossArray);
      }
      loss = lossArray.toType(DataType.FLOAT64, false).getDouble();
      List<NDArray> all = new ArrayList<>(params.values());
      norm = Gradients.clipGlobalNorm(all, config.gradClip());
      guard(loss, norm, all);
      adamDecay.step(decay, lr);
      adamNoDecay.step(noDecay, lr);
    }
    step++;
    double secs = (System.nanoTime() - start) / 1e9;
    log.add(step, loss, lr, inputs.size() / secs, Map.of("grad_norm", norm));
    return new StepResult(loss, lr, norm);
  }

  /**
   * Stops before the update when the loss or gradient is not finite (see {@link NonFiniteException}): weights,
   * moments and the checkpoint on disk stay those of the last good step, and the caller never reaches its save.
   */
  private void guard(double loss, double norm, List<NDArray> all) {
    if (Double.isFinite(loss) && Double.isFinite(norm)) return;
    Gradients.zero(all);
    Path state = config.checkpointDir() == null ? null : config.checkpointDir().resolve(STATE_FILE);
    NonFiniteException.check(step + 1, "loss", loss, norm, state != null && Files.isRegularFile(state) ? state : null);
  }

  /** Chunk index of the g-th sample of the endless, epoch-wise shuffled stream. */
  private int sampleIndex(long g) {
    int n = chunks.size();
    int epoch = (int) (g / n);
    if (epoch != permEpoch) {
      perm = new int[n];
      for (int i = 0; i < n; i++) perm[i] = i;
      Random rng = new Random(config.seed() * 1_000_003L + epoch);
      for (int i = n - 1; i > 0; i--) { // Fisher-Yates
        int j = rng.nextInt(i + 1);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      permEpoch = epoch;
    }
    return perm[(int) (g % n)];
  }

  // ---------------------------------------------------------------- checkpoints

  /** Writes weights, AdamW moments, the step, the data-order seed and the log to one file, atomically. */
  public void saveCheckpoint(Path file) throws IOException {
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    List<String> names = new ArrayList<>(params.keySet());
    List<NDArray> moments = moments(names);
    for (int i = 0; i < names.size(); i++) {
      tensors.put("param." + names.get(i), params.get(names.get(i)));
      tensors.put("adam.m." + names.get(i), moments.get(2 * i));
      tensors.put("adam.v." + names.get(i), moments.get(2 * i + 1));
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put("resa.step", Integer.toString(step));
    meta.put("resa.seed", Long.toString(config.seed()));
    meta.put("resa.chunks", Integer.toString(chunks.size()));
    meta.put("resa.chunk_len", Integer.toString(chunkLen));
    meta.put("resa.batch", Integer.toString(config.batchSize()));
    meta.put("resa.adam_steps", adamDecay.steps() + "," + adamNoDecay.steps());
    meta.put("resa.log_csv", log.toCsv());
    SafeTensors.write(file, tensors, meta, SafeTensors.FloatFormat.F32);
  }

  /** Restores a checkpoint written by {@link #saveCheckpoint}; the data and config must match the original run. */
  public void resume(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new IOException("checkpoint not found: " + file);
    try (SafeTensors.Reader r = SafeTensors.open(file); NDManager tmp = model.manager().newSubManager()) {
      Map<String, String> meta = r.metadata();
      expect(file, meta, "resa.seed", Long.toString(config.seed()));
      expect(file, meta, "resa.chunks", Integer.toString(chunks.size()));
      expect(file, meta, "resa.chunk_len", Integer.toString(chunkLen));
      expect(file, meta, "resa.batch", Integer.toString(config.batchSize()));
      List<String> names = new ArrayList<>(params.keySet());
      for (String name : names) {
        for (String prefix : new String[] {"param.", "adam.m.", "adam.v."}) {
          if (!r.contains(prefix + name)) throw new IOException(file + ": missing tensor '" + prefix + name + "'");
        }
        NDArray p = params.get(name);
        float[] saved = r.readFloats("param." + name);
        if (saved.length != p.size()) {
          throw new IOException(file + ": tensor 'param." + name + "' has " + saved.length + " values, the model has " + p.getShape());
        }
        p.set(saved);
      }
      String[] adamSteps = meta.get("resa.adam_steps").split(",");
      restoreMoments(r, tmp, decay, adamDecay, Long.parseLong(adamSteps[0]));
      restoreMoments(r, tmp, noDecay, adamNoDecay, Long.parseLong(adamSteps[1]));
      step = Integer.parseInt(meta.get("resa.step"));
      log = TrainLog.fromCsv(meta.get("resa.log_csv"), file + " (metadata resa.log_csv)");
      log.truncateAfter(step);
    }
  }

  private void restoreMoments(SafeTensors.Reader r, NDManager tmp, List<NDArray> group, AdamW opt, long steps) throws IOException {
    List<NDArray> saved = new ArrayList<>();
    for (NDArray p : group) {
      String name = nameOf(p);
      saved.add(tmp.create(r.readFloats("adam.m." + name), p.getShape()));
      saved.add(tmp.create(r.readFloats("adam.v." + name), p.getShape()));
    }
    opt.restore(group, saved, steps);
  }

  private String nameOf(NDArray p) {
    for (var e : params.entrySet()) if (e.getValue() == p) return e.getKey();
    throw new IllegalStateException("parameter not registered");
  }

  private List<NDArray> moments(List<String> names) {
    Map<NDArray, NDArray[]> byParam = new java.util.IdentityHashMap<>();
    List<NDArray> md = adamDecay.stateFor(decay);
    for (int i = 0; i < decay.size(); i++) byParam.put(decay.get(i), new NDArray[] {md.get(2 * i), md.get(2 * i + 1)});
    List<NDArray> mn = adamNoDecay.stateFor(noDecay);
    for (int i = 0; i < noDecay.size(); i++) byParam.put(noDecay.get(i), new NDArray[] {mn.get(2 * i), mn.get(2 * i + 1)});
    List<NDArray> out = new ArrayList<>();
    for (String n : names) {
      NDArray[] mv = byParam.get(params.get(n));
      out.add(mv[0]);
      out.add(mv[1]);
    }
    return out;
  }

  /** Frees the AdamW moments (the model and its weights stay). */
  @Override
  public void close() {
    adamDecay.close();
    adamNoDecay.close();
  }

  private static void expect(Path file, Map<String, String> meta, String key, String want) throws IOException {
    String got = meta.get(key);
    if (got == null) throw new IOException(file + ": not a trainer checkpoint (no '" + key + "' in its metadata)");
    if (!got.equals(want)) {
      throw new IOException(file + ": checkpoint has " + key + "=" + got + " but this run has " + want
          + "; resume with the same data, seed and batch size");
    }
  }
}
