package dev.resa.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.resa.core.NativeHeap;
import dev.resa.io.SafeTensors;
import dev.resa.train.AdamW;
import dev.resa.train.NonFiniteException;
import dev.resa.train.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * sparsify's trainer as Resa runs it (resa-algorithm §1.4): one SAE per hook point, all fed from the same
 * activation batches. Each step, per SAE: at the first step set {@code b_dec} to the batch mean (also when
 * fine-tuning), renormalise the decoder rows, compute FVU (+ optional AuxK) and its sparse gradients over the batch,
 * remove the gradient component parallel to each decoder row, then step the optimiser. Dead latents are tracked
 * in tokens since each last fired. {@link #save} writes the Schedule-Free averaged x iterate.
 */
public final class SaeTrainer implements AutoCloseable {
  /** Which optimiser updates the SAE. */
  public enum Optimizer {
    /** SignSGD inside Schedule-Free (momentum 0.95): sparsify's default and Resa's. */
    SIGNUM,
    /** torch Adam (betas 0.9/0.999, no weight decay): sparsify's alternative. */
    ADAM
  }

  /**
   * @param optimizer update rule (default SIGNUM, as Resa).
   * @param lr learning rate; 0 picks sparsify's automatic one: 5e-3/√(n/2^14) for SIGNUM, 2e-4/√(n/2^14) for ADAM.
   * @param auxkAlpha weight of the AuxK dead-latent loss (Resa: 0, i.e. off).
   * @param deadFeatureThreshold tokens without firing after which a latent counts as dead (sparsify: 10M).
   * @param checkpointEvery steps between checkpoints in {@code checkpointDir}, 0 = none (default 0).
   * @param checkpointDir where {@link #fit} writes {@value #STATE_FILE} (atomically), or null (default).
   */
  public record Config(Optimizer optimizer, double lr, double auxkAlpha, long deadFeatureThreshold, int checkpointEvery, Path checkpointDir) {
    public Config {
      if (lr < 0) throw new IllegalArgumentException("lr must be >= 0 (0 = automatic), got " + lr);
      if (auxkAlpha < 0) throw new IllegalArgumentException("auxkAlpha must be >= 0, got " + auxkAlpha);
      if (deadFeatureThreshold <= 0) throw new IllegalArgumentException("deadFeatureThreshold must be positive");
      if (checkpointEvery < 0) throw new IllegalArgumentException("checkpointEvery must be >= 0, got " + checkpointEvery);
    }

    /** Resa's settings: SignSGD + Schedule-Free at the automatic lr, no AuxK, 10M-token dead threshold. */
    public static Config resa() {
      return new Config(Optimizer.SIGNUM, 0, 0, 10_000_000, 0, null);
    }

    public Config withOptimizer(Optimizer o) {
      return new Config(o, lr, auxkAlpha, deadFeatureThreshold, checkpointEvery, checkpointDir);
    }

    public Config withLr(double v) {
      return new Config(optimizer, v, auxkAlpha, deadFeatureThreshold, checkpointEvery, checkpointDir);
    }

    public Config withAuxk(double alpha) {
      return new Config(optimizer, lr, alpha, deadFeatureThreshold, checkpointEvery, checkpointDir);
    }

    public Config withDeadThreshold(long tokens) {
      return new Config(optimizer, lr, auxkAlpha, tokens, checkpointEvery, checkpointDir);
    }

    /** A checkpoint in {@code dir} every {@code every} steps of {@link #fit}, and on interrupt. */
    public Config withCheckpoints(Path dir, int every) {
      return new Config(optimizer, lr, auxkAlpha, deadFeatureThreshold, every, dir);
    }

    /** The learning rate for an SAE with {@code numLatents} latents. */
    public double lrFor(int numLatents) {
      if (lr > 0) return lr;
      double base = optimizer == Optimizer.SIGNUM ? 5e-3 : 2e-4;
      return base / Math.sqrt(numLatents / (double) (1 << 14));
    }
  }

  /** File name of the trainer state inside {@link Config#checkpointDir}. */
  public static final String STATE_FILE = "sae-trainer-state.safetensors";

  /**
   * One SAE's numbers after a step. {@code l0} is the mean number of latents per token with a positive activation
   * (at most k; below k when the ReLU zeroes some of the top k).
   */
  public record StepMetrics(double fvu, double auxkLoss, double deadPct, double tokensPerSecond, double l0) {}

  private final class Slot {
    final SparseCoder sae;
    final ScheduleFreeSignSgd signum;
    final AdamW adam;
    final long[] sinceFired;
    boolean bDecInitialised;

    Slot(SparseCoder sae) {
      this.sae = sae;
      double lr = config.lrFor(sae.config().numLatents());
      this.signum = config.optimizer() == Optimizer.SIGNUM ? new ScheduleFreeSignSgd(ScheduleFreeSignSgd.Config.sparsify(lr), sae.manager()) : null;
      this.adam = config.optimizer() == Optimizer.ADAM ? new AdamW(new AdamW.Config(lr, 0.9, 0.999, 1e-8, 0), sae.manager()) : null;
      this.sinceFired = new long[sae.config().numLatents()];
    }
  }

  private final Config config;
  private final Map<String, Slot> slots = new LinkedHashMap<>();
  private Table history;
  private long step;
  private Path lastCheckpoint;

  /**
   * Trains the given SAEs (hook point → SAE; fresh from {@link SparseCoder#init} or loaded for fine-tuning). The
   * trainer takes ownership and closes them.
   */
  public SaeTrainer(Config config, Map<String, SparseCoder> saes) {
    if (saes.isEmpty()) throw new IllegalArgumentException("no SAEs to train");
    this.config = config;
    for (var e : saes.entrySet()) slots.put(e.getKey(), new Slot(e.getValue()));
    history = Table.create("sae training", IntColumn.create("step"), StringColumn.create("hook"), DoubleColumn.create("fvu"),
        DoubleColumn.create("auxk"), DoubleColumn.create("dead_pct"), DoubleColumn.create("tokens_per_s"), DoubleColumn.create("l0"));
  }

  /** What {@link #train} returns: the averaged SAE (owned by the caller's manager) and the per-step history. */
  public record Trained(SparseCoder sae, Table history) {}

  /**
   * Stage I in one call, for notebooks and ablations: a fresh SAE of {@code shape} (seeded) trained on the
   * activations {@code source} captures at its first hook point over {@code chunks}, {@code seqsPerBatch} chunks per
   * step, for {@code epochs} passes; returns the Schedule-Free averaged SAE in {@code manager}.
   */
  public static Trained train(dev.resa.activations.ActivationSource source, List<long[]> chunks, int seqsPerBatch, int epochs,
      SparseCoderConfig shape, Config config, long seed, NDManager manager) throws IOException {
    String hook = source.points().get(0);
    try (SaeTrainer t = new SaeTrainer(config, fromScratch(List.of(hook), shape, manager, seed)); NDManager acts = manager.newSubManager()) {
      List<long[]> all = new ArrayList<>();
      for (int e = 0; e < epochs; e++) all.addAll(chunks);
      Iterator<Map<String, NDArray>> it = source.batches(all, seqsPerBatch, acts);
      Table h = t.fit(new Iterator<>() {
        public boolean hasNext() {
          return it.hasNext();
        }

        public Map<String, NDArray> next() {
          return Map.of(hook, it.next().get(hook));
        }
      }, 0);
      return new Trained(t.averaged(hook, manager), h);
    }
  }

  /** Fresh SAEs (Resa init, seeded) at each hook point, all with the same shape. */
  public static Map<String, SparseCoder> fromScratch(List<String> hooks, SparseCoderConfig shape, NDManager manager, long seed) {
    Map<String, SparseCoder> m = new LinkedHashMap<>();
    for (String h : hooks) m.put(h, SparseCoder.init(shape, manager, seed)); // sparsify re-seeds before each SAE
    return m;
  }

  public Config config() {
    return config;
  }

  public long steps() {
    return step;
  }

  /** Per-step history: step, hook, fvu, auxk, dead_pct, tokens_per_s, l0. */
  public Table history() {
    return history;
  }

  /** The SAE being trained at {@code hook} (its parameters hold the y iterate under Schedule-Free). */
  public SparseCoder sae(String hook) {
    Slot s = slots.get(hook);
    if (s == null) throw new IllegalArgumentException("no SAE for hook '" + hook + "'; have " + slots.keySet());
    return s.sae;
  }

  /** One optimiser step of every SAE on {@code batch} (hook point → activations [N, d]). */
  public Map<String, StepMetrics> step(Map<String, NDArray> batch) {
    Map<String, StepMetrics> out = new LinkedHashMap<>();
    for (var e : slots.entrySet()) {
      NDArray x = batch.get(e.getKey());
      if (x == null) throw new IllegalArgumentException("batch has no activations for hook '" + e.getKey() + "'; has " + batch.keySet());
      StepMetrics m = stepOne(e.getValue(), x);
      out.put(e.getKey(), m);
      history.intColumn("step").append((int) step);
      history.stringColumn("hook").append(e.getKey());
      history.doubleColumn("fvu").append(m.fvu());
      history.doubleColumn("auxk").append(m.auxkLoss());
      history.doubleColumn("dead_pct").append(m.deadPct());
      history.doubleColumn("tokens_per_s").append(m.tokensPerSecond());
      history.doubleColumn("l0").append(m.l0());
    }
    step++;
    return out;
  }

  private StepMetrics stepOne(Slot slot, NDArray x) {
    long t0 = System.nanoTime();
    SparseCoder sae = slot.sae;
    if (x.getShape().dimension() != 2 || x.getShape().get(1) != sae.config().dIn()) {
      throw new IllegalArgumentException("activations " + x.getShape() + " do not match the SAE's d_in " + sae.config().dIn());
    }
    long tokens = x.getShape().get(0);
    List<NDArray> params = sae.parameters();
    try (NDManager scope = sae.manager().newSubManager()) {
      for (NDArray p : params) p.tempAttach(scope);
      for (NDArray g : sae.gradients()) g.tempAttach(scope);
      x.tempAttach(scope);
      if (!slot.bDecInitialised) { // sparsify: b_dec ← mean of the first batch, also when fine-tuning
        NDArray mean = x.mean(new int[] {0}); // [d]
        sae.bDec().subi(sae.bDec()).addi(mean);
        slot.bDecInitialised = true;
      }
      if (sae.config().normalizeDecoder()) sae.normalizeDecoder();
      NDArray tv = SparseCoder.totalVariance(x); // FVU denominator over the whole batch
      NDArray deadMask = null;
      if (config.auxkAlpha() > 0) {
        boolean[] dead = new boolean[slot.sinceFired.length];
        for (int j = 0; j < dead.length; j++) dead[j] = slot.sinceFired[j] > config.deadFeatureThreshold();
        deadMask = scope.create(dead);
      }
      // The whole batch at once: the encoder chunks its GEMM internally, and the sparse backward needs only [N, d]
      // and [N, k] arrays, so the [n, d] gradient products are formed once per step.
      SparseCoder.ForwardOutput o = sae.forwardBackward(x, deadMask, tv, config.auxkAlpha());
      double fvu = scalar(o.fvu());
      double auxk = o.auxkLoss() == null ? 0 : scalar(o.auxkLoss());
      long[] idx = o.latentIndices().toLongArray();
      float[] acts = o.latentActs().toFloatArray(); // [N, k]
      boolean[] fired = new boolean[slot.sinceFired.length];
      long active = 0; // positive latent activations over the batch
      for (int i = 0; i < idx.length; i++) {
        if (acts[i] <= 0) continue;
        active++;
        fired[(int) idx[i]] = true;
      }
      if (sae.config().normalizeDecoder()) sae.removeGradientParallelToDecoder();
      double gradSq = 0;
      for (NDArray g : sae.gradients()) gradSq += scalar(g.square().sum());
      if (!(Double.isFinite(fvu + auxk) && Double.isFinite(gradSq))) {
        for (NDArray g : sae.gradients()) g.subi(g);
        NonFiniteException.check(step + 1, "fvu", Double.isFinite(auxk) ? fvu : auxk, Math.sqrt(gradSq), lastCheckpoint);
      }
      if (slot.signum != null) slot.signum.step(params, sae.gradients());
      else slot.adam.step(params, sae.gradients(), slot.adam.config().lr());
      int dead = 0;
      for (int j = 0; j < fired.length; j++) {
        slot.sinceFired[j] = fired[j] ? 0 : slot.sinceFired[j] + tokens;
        if (slot.sinceFired[j] > config.deadFeatureThreshold()) dead++;
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      return new StepMetrics(fvu, auxk, dead / (double) fired.length, tokens / seconds, active / (double) tokens);
    }
  }

  /**
   * Trains until {@code maxSteps} steps are done in all (or {@code batches} runs out; maxSteps ≤ 0 = all) with a
   * progress bar; each batch's arrays are closed after use. After {@link #resume} at step k the first k batches of
   * {@code batches} are read and dropped, so the same (seeded) stream continues where the interrupted run stopped.
   * Interruptible between steps; with {@link Config#checkpointDir} a checkpoint is written every
   * {@link Config#checkpointEvery} steps and at an interrupt.
   */
  public Table fit(Iterator<Map<String, NDArray>> batches, long maxSteps) throws IOException {
    for (long skip = 0; skip < step && batches.hasNext(); skip++) {
      for (NDArray a : batches.next().values()) a.close();
    }
    Path dir = config.checkpointDir();
    try (Progress.Bar bar = Progress.start("train-sae", Math.max(0, maxSteps))) {
      while (batches.hasNext() && (maxSteps <= 0 || step < maxSteps)) {
        try {
          Progress.checkInterrupted();
        } catch (Progress.TrainingInterruptedException e) {
          if (dir != null && step > 0) saveCheckpoint(dir);
          throw e;
        }
        Map<String, NDArray> batch = batches.next();
        Map<String, StepMetrics> m;
        try {
          m = step(batch);
        } finally {
          for (NDArray a : batch.values()) a.close();
        }
        Map<String, Double> shown = new LinkedHashMap<>();
        double fvu = 0;
        double dead = 0;
        double tps = 0;
        for (StepMetrics s : m.values()) {
          fvu += s.fvu() / m.size();
          dead += 100 * s.deadPct() / m.size();
          tps += s.tokensPerSecond() / m.size();
        }
        shown.put("fvu", fvu);
        shown.put("dead%", dead);
        shown.put("tok/s", tps);
        bar.update(step, shown);
        if (dir != null && config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0) saveCheckpoint(dir);
      }
    } finally {
      NativeHeap.trim(); // what the steps kept goes back before the next stage
    }
    return history;
  }

  /**
   * Writes everything a resumed run needs into {@code dir}/{@value #STATE_FILE}, atomically: each SAE's parameters
   * (the y iterate), the optimiser state (Schedule-Free z and its averaging scalars, or Adam's moments), the
   * tokens-since-fired counters, the step and the history.
   */
  public void saveCheckpoint(Path dir) throws IOException {
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put("resa.step", Long.toString(step));
    meta.put("resa.hooks", String.join(",", slots.keySet()));
    int h = 0;
    for (Slot s : slots.values()) {
      List<NDArray> ps = s.sae.parameters();
      List<NDArray> opt = s.signum != null ? s.signum.zFor(ps) : s.adam.stateFor(ps);
      for (int j = 0; j < ps.size(); j++) tensors.put(h + ".param." + j, ps.get(j));
      for (int j = 0; j < opt.size(); j++) tensors.put(h + ".opt." + j, opt.get(j));
      StringBuilder fired = new StringBuilder();
      for (long f : s.sinceFired) fired.append(fired.length() == 0 ? "" : ",").append(f);
      meta.put("resa." + h + ".since_fired", fired.toString());
      meta.put("resa." + h + ".b_dec_init", Boolean.toString(s.bDecInitialised));
      double[] sc = s.signum != null ? s.signum.scalars() : new double[] {s.adam.steps()};
      meta.put("resa." + h + ".opt_scalars", java.util.Arrays.toString(sc).replaceAll("[\\[\\] ]", ""));
      h++;
    }
    java.io.StringWriter csv = new java.io.StringWriter();
    history.write().csv(csv);
    meta.put("resa.history_csv", csv.toString());
    SafeTensors.write(dir.resolve(STATE_FILE), tensors, meta, SafeTensors.FloatFormat.F32);
    lastCheckpoint = dir.resolve(STATE_FILE);
  }

  /** Restores a checkpoint written by {@link #saveCheckpoint} into SAEs of the same hooks and shapes. */
  public void resume(Path dir) throws IOException {
    Path file = dir.resolve(STATE_FILE);
    if (!Files.isRegularFile(file)) throw new IOException("SAE trainer checkpoint not found: " + file);
    try (SafeTensors.Reader r = SafeTensors.open(file)) {
      Map<String, String> meta = r.metadata();
      if (!meta.containsKey("resa.step")) throw new IOException(file + ": not an SAE trainer checkpoint (no 'resa.step' in its metadata)");
      if (!meta.get("resa.hooks").equals(String.join(",", slots.keySet()))) {
        throw new IOException(file + ": checkpoint trains hooks [" + meta.get("resa.hooks") + "], this trainer " + slots.keySet());
      }
      int h = 0;
      for (Slot s : slots.values()) {
        List<NDArray> ps = s.sae.parameters();
        for (int j = 0; j < ps.size(); j++) {
          float[] v = r.readFloats(h + ".param." + j);
          if (v.length != ps.get(j).size()) throw new IOException(file + ": tensor '" + h + ".param." + j + "' has " + v.length + " values, the SAE's has " + ps.get(j).getShape());
          ps.get(j).set(v);
        }
        String[] sc = meta.get("resa." + h + ".opt_scalars").split(",");
        if (s.signum != null) {
          List<float[]> z = new ArrayList<>();
          for (int j = 0; j < ps.size(); j++) z.add(r.readFloats(h + ".opt." + j));
          s.signum.restore(ps, z, new double[] {Double.parseDouble(sc[0]), Double.parseDouble(sc[1]), Double.parseDouble(sc[2])});
        } else {
          try (NDManager tmp = s.sae.manager().newSubManager()) {
            List<NDArray> mv = new ArrayList<>();
            for (int j = 0; j < 2 * ps.size(); j++) mv.add(tmp.create(r.readFloats(h + ".opt." + j), ps.get(j / 2).getShape()));
            s.adam.restore(ps, mv, (long) Double.parseDouble(sc[0]));
          }
        }
        String[] fired = meta.get("resa." + h + ".since_fired").split(",");
        for (int j = 0; j < s.sinceFired.length; j++) s.sinceFired[j] = Long.parseLong(fired[j]);
        s.bDecInitialised = Boolean.parseBoolean(meta.get("resa." + h + ".b_dec_init"));
        h++;
      }
      step = Long.parseLong(meta.get("resa.step"));
      Table restored = Table.read().usingOptions(tech.tablesaw.io.csv.CsvReadOptions.builder(new java.io.StringReader(meta.get("resa.history_csv")))
          .columnTypes(name -> switch (name) {
            case "step" -> tech.tablesaw.api.ColumnType.INTEGER;
            case "hook" -> tech.tablesaw.api.ColumnType.STRING;
            default -> tech.tablesaw.api.ColumnType.DOUBLE;
          }));
      history = restored.setName(history.name());
      lastCheckpoint = file;
    }
  }

  /**
   * The SAE to keep for {@code hook}: the Schedule-Free averaged x iterate (the parameters themselves under Adam),
   * as a new SparseCoder in {@code manager}.
   */
  public SparseCoder averaged(String hook, NDManager manager) {
    Slot s = slots.get(hook);
    if (s == null) throw new IllegalArgumentException("no SAE for hook '" + hook + "'");
    try (NDManager tmp = manager.newSubManager()) {
      List<NDArray> ps = s.sae.parameters();
      NDArray[] v = new NDArray[4];
      for (int i = 0; i < 4; i++) v[i] = s.signum != null ? s.signum.averaged(ps.get(i), tmp) : ps.get(i);
      return SparseCoder.of(s.sae.config(), manager, v[0], v[1], v[2], v[3]);
    }
  }

  /** Writes every SAE's averaged iterate in sparsify's layout: {@code out/<hook>/cfg.json + sae.safetensors}. */
  public void save(Path out) throws IOException {
    for (String hook : slots.keySet()) {
      try (NDManager tmp = slots.get(hook).sae.manager().newSubManager(); SparseCoder avg = averaged(hook, tmp)) {
        SparsifyFormat.write(out.resolve(hook), avg.config(), avg.wEnc(), avg.bEnc(), avg.wDec(), avg.bDec(), SafeTensors.FloatFormat.F32);
      }
    }
  }

  static double scalar(NDArray a) {
    return a.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
  }

  public List<String> hooks() {
    return List.copyOf(slots.keySet());
  }

  @Override
  public void close() {
    for (Slot s : slots.values()) {
      if (s.signum != null) s.signum.close();
      if (s.adam != null) s.adam.close();
      s.sae.close();
    }
  }
}
