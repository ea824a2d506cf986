package dev.resa.tuning;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.resa.core.NativeHeap;
import dev.resa.io.SafeTensors;
import dev.resa.model.DecoderLM;
import dev.resa.train.AdamW;
import dev.resa.train.Gradients;
import dev.resa.train.LrSchedule;
import dev.resa.train.NonFiniteException;
import dev.resa.train.Progress;
import dev.resa.train.TrainLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The one LoRA training loop behind {@link SaeTuning}, {@link Sft} and {@link Grpo}; each of them is only an
 * {@link Objective} (forward + backward of one step). Per step the loop: seeds the dropout RNG from the step, asks
 * the objective for its loss and gradients, measures the global gradient norm, stops at a non-finite loss or norm
 * ({@link NonFiniteException}, before any update), clips, takes an AdamW step at the scheduled learning rate, logs one
 * {@link TrainLog} row, updates the progress display and, every {@link Config#saveEvery} steps, writes a checkpoint.
 *
 * <p>A checkpoint {@code <out>/checkpoint-N/} is a PEFT adapter folder plus {@value #STATE_FILE} (fp32 adapter
 * parameters, AdamW moments, the step and the log), built in a hidden temporary folder and renamed into place, so a
 * crash never leaves a half-written checkpoint. With {@link Config#resume} the loop continues from the newest one;
 * because the objectives' data and the dropout mask are functions of the step, the resumed run equals the
 * uninterrupted one. An interrupt ({@link Progress#checkInterrupted}) saves a checkpoint at the step boundary first.
 */
public final class LoraTrainer {
  /** Trainer state inside each checkpoint folder. */
  public static final String STATE_FILE = "trainer_state.safetensors";

  /** Learning-rate schedules: Resa's Stage-II code uses none (constant); the paper's Table 7 says cosine. */
  public enum Schedule { CONSTANT, COSINE }

  /**
   * @param lr peak learning rate (no default: each recipe sets its own).
   * @param schedule constant or cosine after a linear warm-up; default constant (Resa's code).
   * @param warmupRatio share of the run's steps spent in linear warm-up before the cosine; default 0 (HF's warmup_ratio).
   * @param minLrRatio cosine floor as a fraction of {@code lr}; default 0.1 (the paper's Table 7 floor).
   * @param horizon length of the schedule (warm-up and cosine) as a multiple of the run's steps; default 1 (the run
   *     ends where the cosine does). Tina plans its cosine over twice the steps it runs, so its lr stops mid-decay.
   * @param weightDecay AdamW decoupled decay; default 0.01 (torch's AdamW default, which Resa keeps).
   * @param clipNorm global gradient-norm clip, 0 = off; default 1.0 (the HF Trainer default).
   * @param saveEvery steps between checkpoints, 0 = none; default 500 (Resa's recipe).
   * @param outDir checkpoints, the final {@code adapter/} and {@code training.csv}; default null (nothing written).
   * @param baseModelName written into adapter_config.json as base_model_name_or_path; default "".
   * @param resume continue from the newest checkpoint in {@code outDir} when there is one; default false.
   * @param seed seeds the per-step dropout RNG; default 42.
   */
  public record Config(double lr, Schedule schedule, double warmupRatio, double minLrRatio, double horizon, double weightDecay, double clipNorm,
                       int saveEvery, Path outDir, String baseModelName, boolean resume, long seed) {
    public Config {
      if (!(lr > 0)) throw new IllegalArgumentException("lr must be positive, got " + lr);
      if (warmupRatio < 0 || warmupRatio >= 1) throw new IllegalArgumentException("warmupRatio must be in [0, 1), got " + warmupRatio);
      if (!(horizon >= 1)) throw new IllegalArgumentException("horizon must be >= 1 (a schedule no shorter than the run), got " + horizon);
      if (saveEvery < 0) throw new IllegalArgumentException("saveEvery must be >= 0, got " + saveEvery);
      if (clipNorm < 0) throw new IllegalArgumentException("clipNorm must be >= 0, got " + clipNorm);
    }

    /** Constant {@code lr}, AdamW decay 0.01, clip 1.0, a checkpoint every 500 steps, nothing written. */
    public static Config of(double lr) {
      return new Config(lr, Schedule.CONSTANT, 0, 0.1, 1, 0.01, 1.0, 500, null, "", false, 42);
    }

    public Config withLr(double v) {
      return new Config(v, schedule, warmupRatio, minLrRatio, horizon, weightDecay, clipNorm, saveEvery, outDir, baseModelName, resume, seed);
    }

    public Config withSchedule(Schedule s, double warmup, double floorRatio) {
      return new Config(lr, s, warmup, floorRatio, horizon, weightDecay, clipNorm, saveEvery, outDir, baseModelName, resume, seed);
    }

    public Config withWeightDecay(double v) {
      return new Config(lr, schedule, warmupRatio, minLrRatio, horizon, v, clipNorm, saveEvery, outDir, baseModelName, resume, seed);
    }

    /** Writes checkpoints every {@code every} steps (0 = none), the adapter and the log into {@code dir}. */
    public Config withOutput(Path dir, int every, String baseName) {
      return new Config(lr, schedule, warmupRatio, minLrRatio, horizon, weightDecay, clipNorm, every, dir, baseName, resume, seed);
    }

    public Config withResume(boolean v) {
      return new Config(lr, schedule, warmupRatio, minLrRatio, horizon, weightDecay, clipNorm, saveEvery, outDir, baseModelName, v, seed);
    }

    public Config withSeed(long v) {
      return new Config(lr, schedule, warmupRatio, minLrRatio, horizon, weightDecay, clipNorm, saveEvery, outDir, baseModelName, resume, v);
    }

    /** The schedule spans {@code horizon} times the run's steps (cosine only; a constant lr has no length). */
    public Config withHorizon(double v) {
      return new Config(lr, schedule, warmupRatio, minLrRatio, v, weightDecay, clipNorm, saveEvery, outDir, baseModelName, resume, seed);
    }

    /** The lr of each step of a run of {@code totalSteps} steps. */
    LrSchedule scheduleFor(long totalSteps) {
      long planned = Math.round(horizon * totalSteps);
      return schedule == Schedule.CONSTANT ? LrSchedule.constant(lr) : LrSchedule.cosine(lr, minLrRatio * lr, Math.round(warmupRatio * planned), planned);
    }
  }

  /**
   * What one objective step measured.
   *
   * @param loss the scalar that was back-propagated.
   * @param tokens tokens processed (for the log's tokens/s).
   * @param metrics extra columns of the log, in order (e.g. fvu, reward).
   */
  public record Step(double loss, long tokens, Map<String, Double> metrics) {}

  /** The part of a trainer that differs: forward and backward of step {@code step} (0-based) in {@code scope}. */
  @FunctionalInterface
  public interface Objective {
    Step step(long step, NDManager scope);
  }

  /** What a run returns: the log (one row per step, resumed rows included), steps done, the final adapter's folder. */
  public record Result(TrainLog log, long steps, Path adapterDir) {
    public double firstLoss() {
      return log.rows() == 0 ? Double.NaN : log.losses()[0];
    }

    public double lastLoss() {
      return log.rows() == 0 ? Double.NaN : log.losses()[log.rows() - 1];
    }
  }

  private final DecoderLM model;
  private final Lora lora;
  private final Config config;
  private final String title;
  private Consumer<TrainLog> onStep = log -> {};
  private TrainLog log;

  public LoraTrainer(DecoderLM model, Lora lora, Config config, String title) {
    this.model = model;
    this.lora = lora;
    this.config = config;
    this.title = title;
    this.log = new TrainLog(title);
  }

  public Config config() {
    return config;
  }

  /** The log so far (live). */
  public TrainLog log() {
    return log;
  }

  /** Called after every step (and its checkpoint) with the log: live plots, early stopping, tests. */
  public LoraTrainer onStep(Consumer<TrainLog> listener) {
    this.onStep = listener;
    return this;
  }

  /** Runs steps up to {@code totalSteps} (from the newest checkpoint with {@link Config#resume}). */
  public Result run(Objective objective, long totalSteps) throws IOException {
    if (totalSteps <= 0) throw new IllegalArgumentException("nothing to train: " + totalSteps + " steps");
    List<NDArray> params = lora.parameters();
    LrSchedule schedule = config.scheduleFor(totalSteps);
    Path out = config.outDir();
    Path lastGood = out == null ? null : latestCheckpoint(out);
    log = new TrainLog(title);
    long step = 0;
    try (AdamW adamw = new AdamW(new AdamW.Config(config.lr(), 0.9, 0.999, 1e-8, config.weightDecay()), lora.manager());
         Progress.Bar bar = Progress.start(title, totalSteps)) {
      if (config.resume() && lastGood != null) {
        step = restore(lastGood, params, adamw);
        if (step > totalSteps) throw new IllegalArgumentException(lastGood + " is at step " + step + ", past this run's " + totalSteps + " steps");
        bar.update(step, Map.of());
      }
      long start = System.nanoTime();
      while (step < totalSteps) {
        try {
          Progress.checkInterrupted();
        } catch (Progress.TrainingInterruptedException e) {
          if (out != null && step > 0 && !checkpoint(out, step).equals(lastGood)) saveCheckpoint(out, step, params, adamw);
          throw e;
        }
        Engine.getInstance().setRandomSeed((int) (config.seed() * 1_000_003L + step)); // dropout mask = f(step)
        double lr = schedule.at(step);
        long t0 = System.nanoTime();
        Step s;
        double norm;
        try (NDManager scope = model.stepScope()) {
          s = objective.step(step, scope);
          norm = Gradients.clipGlobalNorm(params, config.clipNorm());
          try {
            NonFiniteException.check(step + 1, "loss", s.loss(), norm, lastGood);
          } catch (NonFiniteException e) {
            Gradients.zero(params);
            throw e;
          }
          adamw.step(params, lr);
        }
        step++;
        Map<String, Double> extra = new LinkedHashMap<>(s.metrics());
        extra.put("tokens", (double) s.tokens());
        extra.put("grad_norm", norm);
        log.add((int) step, s.loss(), lr, s.tokens() / Math.max((System.nanoTime() - t0) / 1e9, 1e-9), extra);
        Map<String, Double> shown = new LinkedHashMap<>();
        shown.put("loss", s.loss());
        s.metrics().forEach((k, v) -> { if (shown.size() < 3) shown.put(k, v); });
        bar.update(step, shown);
        if (out != null && config.saveEvery() > 0 && step % config.saveEvery() == 0) {
          saveCheckpoint(out, step, params, adamw);
          lastGood = checkpoint(out, step);
        }
        onStep.accept(log);
      }
    } finally {
      NativeHeap.trim(); // the steps' freed activations go back before the next stage (merge, evaluation)
    }
    Path adapterDir = null;
    if (out != null) {
      adapterDir = out.resolve("adapter");
      lora.save(adapterDir, config.baseModelName());
      log.save(out.resolve("training.csv"));
    }
    return new Result(log, step, adapterDir);
  }

  static Path checkpoint(Path out, long step) {
    return out.resolve("checkpoint-" + step);
  }

  /** The checkpoint folder with the highest step under {@code out} that holds a trainer state, or null. */
  public static Path latestCheckpoint(Path out) throws IOException {
    if (!Files.isDirectory(out)) return null;
    try (Stream<Path> s = Files.list(out)) {
      return s.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+") && Files.isRegularFile(p.resolve(STATE_FILE)))
          .max(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring("checkpoint-".length()))))
          .orElse(null);
    }
  }

  private void saveCheckpoint(Path out, long step, List<NDArray> params, AdamW adamw) throws IOException {
    Path target = checkpoint(out, step);
    Path tmp = out.resolve(".checkpoint-" + step + ".tmp");
    deleteTree(tmp);
    Files.createDirectories(tmp);
    lora.save(tmp, config.baseModelName());
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    List<NDArray> moments = adamw.stateFor(params);
    for (int i = 0; i < params.size(); i++) {
      tensors.put("param." + i, params.get(i));
      tensors.put("adam.m." + i, moments.get(2 * i));
      tensors.put("adam.v." + i, moments.get(2 * i + 1));
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put("resa.step", Long.toString(step));
    meta.put("resa.adam_steps", Long.toString(adamw.steps()));
    meta.put("resa.params", Integer.toString(params.size()));
    meta.put("resa.log_csv", log.toCsv());
    SafeTensors.write(tmp.resolve(STATE_FILE), tensors, meta, SafeTensors.FloatFormat.F32);
    deleteTree(target);
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target);
    }
    log.save(out.resolve("training.csv"));
  }

  /** Loads a checkpoint's parameters, moments and log; returns its step. */
  private long restore(Path dir, List<NDArray> params, AdamW adamw) throws IOException {
    Path file = dir.resolve(STATE_FILE);
    try (SafeTensors.Reader r = SafeTensors.open(file); NDManager tmp = lora.manager().newSubManager()) {
      Map<String, String> meta = r.metadata();
      for (String key : List.of("resa.step", "resa.adam_steps", "resa.params", "resa.log_csv")) {
        if (!meta.containsKey(key)) throw new IOException(file + ": not a LoRA trainer checkpoint (no '" + key + "' in its metadata)");
      }
      if (Integer.parseInt(meta.get("resa.params")) != params.size()) {
        throw new IOException(file + ": holds " + meta.get("resa.params") + " adapter tensors, this adapter has " + params.size()
            + "; resume with the same LoRA rank, targets and layers");
      }
      List<NDArray> saved = new ArrayList<>();
      for (int i = 0; i < params.size(); i++) {
        NDArray p = params.get(i);
        float[] v = r.readFloats("param." + i);
        if (v.length != p.size()) throw new IOException(file + ": tensor 'param." + i + "' has " + v.length + " values, the adapter's has " + p.getShape());
        p.set(v);
        saved.add(tmp.create(r.readFloats("adam.m." + i), p.getShape()));
        saved.add(tmp.create(r.readFloats("adam.v." + i), p.getShape()));
      }
      adamw.restore(params, saved, Long.parseLong(meta.get("resa.adam_steps")));
      long step = Long.parseLong(meta.get("resa.step"));
      log = TrainLog.fromCsv(meta.get("resa.log_csv"), file + " (metadata resa.log_csv)");
      log.truncateAfter((int) step);
      return step;
    }
  }

  private static void deleteTree(Path d) throws IOException {
    if (!Files.exists(d)) return;
    try (Stream<Path> s = Files.walk(d)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
