package dev.resa.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.resa.io.SafeTensors;
import dev.resa.train.AdamW;
import dev.resa.train.Progress;
import java.io.IOException;
import java.nio.file.Path;
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
   */
  public record Config(Optimizer optimizer, double lr, double auxkAlpha, long deadFeatureThreshold) {
    public Config {
      if (lr < 0) throw new IllegalArgumentException("lr must be >= 0 (0 = automatic), got " + lr);
      if (auxkAlpha < 0) throw new IllegalArgumentException("auxkAlpha must be >= 0, got " + auxkAlpha);
      if (deadFeatureThreshold <= 0) throw new IllegalArgumentException("deadFeatureThreshold must be positive");
    }

    /** Resa's settings: SignSGD + Schedule-Free at the automatic lr, no AuxK, 10M-token dead threshold. */
    public static Config resa() {
      return new Config(Optimizer.SIGNUM, 0, 0, 10_000_000);
    }

    public Config withOptimizer(Optimizer o) {
      return new Config(o, lr, auxkAlpha, deadFeatureThreshold);
    }

    public Config withLr(double v) {
      return new Config(optimizer, v, auxkAlpha, deadFeatureThreshold);
    }

    public Config withAuxk(double alpha) {
      return new Config(optimizer, lr, alpha, deadFeatureThreshold);
    }

    public Config withDeadThreshold(long tokens) {
      return new Config(optimizer, lr, auxkAlpha, tokens);
    }

    /** The learning rate for an SAE with {@code numLatents} latents. */
    public double lrFor(int numLatents) {
      if (lr > 0) return lr;
      double base = optimizer == Optimizer.SIGNUM ? 5e-3 : 2e-4;
      return base / Math.sqrt(numLatents / (double) (1 << 14));
    }
  }

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
  private final Table history;
  private long step;

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
   * Trains on up to {@code maxSteps} batches from {@code batches} (all when ≤ 0) with a progress bar; each batch's
   * arrays are closed after use. Interruptible between steps.
   */
  public Table fit(Iterator<Map<String, NDArray>> batches, long maxSteps) {
    try (Progress.Bar bar = Progress.start("train-sae", Math.max(0, maxSteps))) {
      long done = 0;
      while (batches.hasNext() && (maxSteps <= 0 || done < maxSteps)) {
        Progress.checkInterrupted();
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
        bar.update(++done, shown);
      }
    }
    return history;
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
