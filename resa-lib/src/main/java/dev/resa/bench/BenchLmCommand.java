package dev.resa.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.resa.core.Djl;
import dev.resa.model.DecoderLM;
import dev.resa.model.Generator;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import dev.resa.train.LmTrainer;
import dev.resa.train.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./resa bench lm}: (a) training-step tokens/s and (b) KV-cache greedy decoding time per step of
 * {@link DecoderLM} at batch 1 and batch {@code --gen-batch}, next to a PyTorch eager implementation of the same architecture
 * ({@code resources/bench/lm_bench.py}, run with Debian's {@code python3-torch}); (c) resident memory over a long
 * training run.
 */
@Command(name = "lm", mixinStandardHelpOptions = true,
    description = "Decoder LM: train-step and KV-cache decoding speed vs PyTorch eager, and RSS over a long run.")
public final class BenchLmCommand implements Callable<Integer> {
  @Option(names = "--vocab", defaultValue = "512", description = "Vocabulary (default: ${DEFAULT-VALUE}).") int vocab;
  @Option(names = "--hidden", defaultValue = "256", description = "Hidden size (default: ${DEFAULT-VALUE}).") int hidden;
  @Option(names = "--layers", defaultValue = "4", description = "Layers (default: ${DEFAULT-VALUE}).") int layers;
  @Option(names = "--heads", defaultValue = "8", description = "Query heads (default: ${DEFAULT-VALUE}).") int heads;
  @Option(names = "--kv-heads", defaultValue = "8", description = "Key/value heads (default: ${DEFAULT-VALUE}).") int kvHeads;
  @Option(names = "--intermediate", defaultValue = "768", description = "SwiGLU width (default: ${DEFAULT-VALUE}).") int intermediate;
  @Option(names = "--seq-len", defaultValue = "256", description = "Training sequence length (default: ${DEFAULT-VALUE}).") int seqLen;
  @Option(names = "--batch", defaultValue = "16", description = "Training batch (default: ${DEFAULT-VALUE}).") int batch;
  @Option(names = "--threads", defaultValue = "2", description = "Intra-op threads for both engines (default: ${DEFAULT-VALUE}).") int threads;
  @Option(names = "--warmup-steps", defaultValue = "2", description = "Untimed training steps first (default: ${DEFAULT-VALUE}).") int warmupSteps;
  @Option(names = "--train-steps", defaultValue = "5", description = "Timed training steps; the median is reported (default: ${DEFAULT-VALUE}).") int trainSteps;
  @Option(names = "--gen-prompt", defaultValue = "32", description = "Prompt tokens before decoding (default: ${DEFAULT-VALUE}).") int genPrompt;
  @Option(names = "--gen-to", defaultValue = "512", description = "Decode until this context length (default: ${DEFAULT-VALUE}).") int genTo;
  @Option(names = "--memory-steps", defaultValue = "2000", description = "Training steps of the RSS check, 0 to skip (default: ${DEFAULT-VALUE}).") int memorySteps;
  @Option(names = "--gen-batch", defaultValue = "16", description = "Prompts of the batched-decode line (default: ${DEFAULT-VALUE}).") int genBatch;
  @Option(names = "--parts", split = ",", defaultValue = "a,b,c",
      description = "Parts to run: a (train step), b (decoding), c (memory) (default: ${DEFAULT-VALUE}).") List<String> parts;
  @Option(names = "--no-torch", description = "Skip the PyTorch reference.") boolean noTorch;

  @Override
  public Integer call() throws Exception {
    TorchReference reference = noTorch ? null : TorchReference.require(TorchReference.DEFAULT_PYTHON); // fails fast, before timing
    ai.djl.engine.Engine.getEngine("PyTorch"); // loads libtorch before the thread count is set
    JniUtils.setNumThreads(threads);
    System.setProperty("resa.progress.off", "true");
    ModelConfig config = ModelConfig.tinyQwen2(vocab, hidden, layers, heads, kvHeads, intermediate, Math.max(seqLen, genTo));
    System.out.printf(Locale.ROOT, "bench lm: hidden %d, %d layers, %d heads (%d kv), intermediate %d, vocab %d, %,d parameters; fp32, CPU, %d threads%n",
        hidden, layers, heads, kvHeads, intermediate, vocab, config.parameterCount(), threads);

    boolean a = parts.contains("a"), b = parts.contains("b");
    double[] javaStepWallCpu = a ? trainStepSeconds(config) : null;
    double[][] javaGen = b ? decodeSeconds(config, 1) : null;
    double[][] javaGenBatch = b ? decodeSeconds(config, genBatch) : null;
    JsonObject torch = reference == null || !(a || b) ? null : runTorch(reference, a, b);

    if (a) {
      double javaStep = javaStepWallCpu[0];
      double javaTps = batch * seqLen / javaStep;
      System.out.printf(Locale.ROOT, "%n(a) train step, batch %d x seq %d (forward, cross-entropy, backward, clip, AdamW), median of %d%n", batch, seqLen, trainSteps);
      System.out.printf(Locale.ROOT, "    resa (libtorch %s)  %8.0f tokens/s  (%.3f s/step wall, %.3f s/step process CPU)%n",
          ai.djl.engine.Engine.getEngine("PyTorch").getVersion(), javaTps, javaStep, javaStepWallCpu[1]);
      if (torch != null) {
        double torchTps = torch.get("train_tokens_per_s").getAsDouble();
        double torchCpu = torch.get("train_step_cpu_s").getAsDouble();
        System.out.printf(Locale.ROOT, "    torch %s eager   %8.0f tokens/s  (%.3f s/step wall, %.3f s/step process CPU)%n",
            torch.get("torch").getAsString(), torchTps, torch.get("train_step_s").getAsDouble(), torchCpu);
        System.out.printf(Locale.ROOT, "    ratio resa / torch: %.2fx by wall clock, %.2fx by CPU time  (target >= 1.0x)%n",
            javaTps / torchTps, torchCpu / javaStepWallCpu[1]);
      }
    }

    if (b) {
      System.out.printf(Locale.ROOT, "%n(b) KV-cache greedy decoding (resa: Generator.generate; torch: forward + argmax), prompt %d, to context %d (median ms/step over 32-step windows)%n", genPrompt, genTo);
      decodeLines(1, javaGen, torch == null ? null : torch.getAsJsonObject("gen_1"));
      decodeLines(genBatch, javaGenBatch, torch == null ? null : torch.getAsJsonObject("gen_" + genBatch));
    }

    if (parts.contains("c") && memorySteps > 0) memory();
    return 0;
  }

  /**
   * Median wall-clock and process-CPU seconds per training step of {@link LmTrainer} on random tokens. CPU time
   * is printed too because on a shared machine wall time mostly measures the neighbours.
   */
  private double[] trainStepSeconds(ModelConfig config) throws IOException {
    Random r = new Random(0);
    List<long[]> chunks = new ArrayList<>();
    for (int i = 0; i < batch * 4; i++) {
      long[] c = new long[seqLen + 1];
      for (int j = 0; j < c.length; j++) c[j] = r.nextInt(vocab);
      chunks.add(c);
    }
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu());
         DecoderLM model = new DecoderLM(config, Weights.random(config, m.newSubManager(), 0, DataType.FLOAT32))) {
      LmTrainer trainer = new LmTrainer(model, LmTrainer.Config.defaults().withSteps(warmupSteps + trainSteps).withBatch(batch), chunks);
      for (int i = 0; i < warmupSteps; i++) trainer.trainStep();
      double[] secs = new double[trainSteps], cpu = new double[trainSteps];
      for (int i = 0; i < trainSteps; i++) {
        long t0 = System.nanoTime();
        double c0 = cpuSeconds();
        trainer.trainStep();
        secs[i] = (System.nanoTime() - t0) / 1e9;
        cpu[i] = cpuSeconds() - c0;
      }
      return new double[] {median(secs), median(cpu)};
    }
  }

  /**
   * Wall seconds per decode step of {@link Generator#generate} with {@code rows} prompts of {@code genPrompt} random
   * tokens, greedy, one entry per context length {@code genPrompt .. genTo-1} (the prefill is not timed), and the
   * process CPU clock before each step and after the last. Steps are timed between the listener calls of row 0.
   */
  private double[][] decodeSeconds(ModelConfig config, int rows) {
    Random r = new Random(1);
    List<int[]> prompts = new ArrayList<>();
    for (int p = 0; p < rows; p++) prompts.add(r.ints(genPrompt, 0, vocab).toArray());
    int steps = genTo - genPrompt;
    double[] wallAt = new double[steps + 1], cpuAt = new double[steps + 1];
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu());
         DecoderLM model = new DecoderLM(config, Weights.random(config, m.newSubManager(), 0, DataType.FLOAT32))) {
      Generator gen = new Generator(model);
      for (int i = 0; i < 3; i++) gen.generate(prompts, Generator.Sampling.greedy(64, Set.of())); // JIT warm-up, untimed
      int[] seen = {0};
      gen.generate(prompts, Generator.Sampling.greedy(steps + 1, Set.of()), (row, token) -> {
        if (row != 0) return;
        wallAt[seen[0]] = System.nanoTime() / 1e9;
        cpuAt[seen[0]] = cpuSeconds();
        seen[0]++;
      });
      if (seen[0] != steps + 1) throw new IllegalStateException("decode bench: expected " + (steps + 1) + " tokens, got " + seen[0]);
    }
    double[] secs = new double[steps];
    for (int i = 0; i < steps; i++) secs[i] = wallAt[i + 1] - wallAt[i];
    return new double[][] {secs, cpuAt};
  }

  /** The resa and torch lines of one decode batch size, and their ratio. */
  private void decodeLines(int rows, double[][] java, JsonObject torch) {
    System.out.printf(Locale.ROOT, "  batch %d:%n", rows);
    double resa = printDecode("resa ", rows, java[0], java[1]);
    if (torch == null) return;
    double ref = printDecode("torch", rows, doubles(torch.getAsJsonArray("token_s")), doubles(torch.getAsJsonArray("cpu_at_s")));
    System.out.printf(Locale.ROOT, "    ratio resa / torch at batch %d: %.2fx tokens/s  (target >= 1.0x)%n", rows, resa / ref);
  }

  /** Prints decode speed and the growth of per-step time from the first to the last 32-step window; returns tokens/s. */
  private double printDecode(String who, int rows, double[] secs, double[] cpuAt) {
    int w = Math.min(32, secs.length / 2), n = secs.length;
    double early = median(Arrays.copyOfRange(secs, 0, w)), late = median(Arrays.copyOfRange(secs, n - w, n));
    double cpuEarly = (cpuAt[w] - cpuAt[0]) / w, cpuLate = (cpuAt[n] - cpuAt[n - w]) / w;
    double tps = rows / Arrays.stream(secs).average().orElse(Double.NaN);
    System.out.printf(Locale.ROOT, "    %s %7.0f tokens/s overall; wall %.2f -> %.2f ms/step (growth %.2fx), CPU %.2f -> %.2f ms/step (growth %.2fx) from context %d to %d (target <= 1.3x)%n",
        who, tps, early * 1e3, late * 1e3, late / early, cpuEarly * 1e3, cpuLate * 1e3, cpuLate / cpuEarly, genPrompt, genTo);
    return tps;
  }

  private static double[] doubles(JsonArray a) {
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) out[i] = a.get(i).getAsDouble();
    return out;
  }

  /** Runs {@code resources/bench/lm_bench.py} with this bench's settings as one JSON argument. */
  private JsonObject runTorch(TorchReference reference, boolean train, boolean decode) throws IOException, InterruptedException {
    JsonObject c = new JsonObject();
    c.addProperty("vocab", vocab);
    c.addProperty("hidden", hidden);
    c.addProperty("layers", layers);
    c.addProperty("heads", heads);
    c.addProperty("kv_heads", kvHeads);
    c.addProperty("intermediate", intermediate);
    c.addProperty("max_positions", Math.max(seqLen, genTo));
    c.addProperty("batch", batch);
    c.addProperty("seq_len", seqLen);
    c.addProperty("warmup_steps", warmupSteps);
    c.addProperty("train_steps", trainSteps);
    c.addProperty("gen_prompt", genPrompt);
    c.addProperty("gen_to", genTo);
    c.addProperty("threads", threads);
    c.addProperty("train", train);
    c.addProperty("decode", decode);
    JsonArray batches = new JsonArray();
    batches.add(1);
    batches.add(genBatch);
    c.add("gen_batches", batches);
    return reference.run("lm_bench.py", List.of(c.toString()));
  }

  /** (c) RSS of this process over a long training run of a small model, measured after warm-up. */
  private void memory() throws IOException {
    ModelConfig small = ModelConfig.tinyQwen2(vocab, 64, 2, 4, 2, 128, 64);
    Random r = new Random(2);
    List<long[]> chunks = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      long[] c = new long[65];
      for (int j = 0; j < c.length; j++) c[j] = r.nextInt(vocab);
      chunks.add(c);
    }
    int warm = Math.max(50, memorySteps / 10);
    System.out.printf(Locale.ROOT, "%n(c) resident memory over %d training steps (hidden 64, 2 layers, batch 8 x seq 64); baseline after %d warm-up steps%n", memorySteps, warm);
    try (NDManager m = Djl.newManager(ai.djl.Device.cpu());
         DecoderLM model = new DecoderLM(small, Weights.random(small, m.newSubManager(), 0, DataType.FLOAT32));
         Progress.Bar bar = Progress.start("bench lm memory", memorySteps)) {
      LmTrainer trainer = new LmTrainer(model, LmTrainer.Config.defaults().withSteps(memorySteps).withBatch(8), chunks);
      long base = 0;
      for (int s = 1; s <= memorySteps; s++) {
        Progress.checkInterrupted();
        LmTrainer.StepResult res = trainer.trainStep();
        bar.update(s, Map.of("loss", res.loss()));
        if (s == warm) {
          base = rssKb();
          System.out.printf(Locale.ROOT, "    step %5d  RSS %7.1f MB (baseline)%n", s, base / 1024.0);
        } else if (s > warm && (s % Math.max(1, memorySteps / 4) == 0 || s == memorySteps)) {
          long now = rssKb();
          System.out.printf(Locale.ROOT, "    step %5d  RSS %7.1f MB  (%+.1f%% vs baseline)%n", s, now / 1024.0, 100.0 * (now - base) / base);
        }
      }
      long end = rssKb();
      System.out.printf(Locale.ROOT, "    RSS growth after warm-up: %+.1f%% (target < 10%%); arrays left in the weights' manager: %d%n",
          100.0 * (end - base) / base, model.manager().getManagedArrays().size());
    }
  }

  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

  /** CPU time of the whole process (all threads, native ones included); one getrusage-like call, cheap enough per token. */
  private static double cpuSeconds() {
    return OS.getProcessCpuTime() / 1e9;
  }

  private static long rssKb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
    throw new IOException("/proc/self/status has no VmRSS line (not Linux?)");
  }

  private static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
