package dev.resa.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.resa.activations.ActivationCache;
import dev.resa.activations.ActivationSource;
import dev.resa.cli.DataDirOption;
import dev.resa.core.Djl;
import dev.resa.eval.Benchmark;
import dev.resa.eval.EvalConfig;
import dev.resa.eval.Evaluator;
import dev.resa.eval.LmBackend;
import dev.resa.eval.Problem;
import dev.resa.eval.Prompts;
import dev.resa.io.SafeTensors;
import dev.resa.model.DecoderLM;
import dev.resa.model.Generator;
import dev.resa.model.HfCheckpoint;
import dev.resa.model.MemoryEstimate;
import dev.resa.model.ModelConfig;
import dev.resa.model.R1DistillFixture;
import dev.resa.sae.SaeTrainer;
import dev.resa.sae.SparseCoder;
import dev.resa.sae.SparseCoderConfig;
import dev.resa.sae.SparsifyFormat;
import dev.resa.tokenizer.Tokenizer;
import dev.resa.tokenizer.Tokenizers;
import dev.resa.tuning.LoraConfig;
import dev.resa.tuning.LoraTrainer;
import dev.resa.tuning.SaeTuning;
import dev.resa.tuning.Splice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./resa bench scale}: every stage of the pipeline on a random-weight model of R1-Distill-Qwen-1.5B's exact
 * shape ({@link R1DistillFixture}), with wall time, tokens/s and the peak resident memory of each stage, and
 * PyTorch eager (Debian's python3-torch, run afterwards in its own process on the same checkpoint and the same
 * token ids) for the forward pass and greedy KV-cache decoding. Every stage's memory is estimated before anything runs;
 * a configuration over the budget stops with a message saying what to lower.
 */
@Command(name = "scale", mixinStandardHelpOptions = true,
    description = "Every stage on a random-weight R1-Distill-Qwen-1.5B-shaped checkpoint: time, tokens/s, peak RSS; PyTorch ratios.")
public final class BenchScaleCommand implements Callable<Integer> {
  private static final String HOOK_LAYER_PREFIX = "layers.";

  @Option(names = "--fixture", description = "Folder of the random-weight checkpoint (written when missing; default: ~/.cache/resa/r1-distill-qwen-1.5b-random-L<layers>).")
  Path fixture;
  @Option(names = "--layers", defaultValue = "28", description = "Decoder layers of the fixture (default: ${DEFAULT-VALUE}, the real depth).")
  int layers;
  @Option(names = "--forward-tokens", defaultValue = "2048", description = "Tokens of the timed forward and of each captured chunk (default: ${DEFAULT-VALUE}, Resa's chunk length).")
  int forwardTokens;
  @Option(names = "--hook-layer", defaultValue = "12", description = "Layer whose output is captured and spliced (default: ${DEFAULT-VALUE}, Resa's).")
  int hookLayer;
  @Option(names = "--capture-chunks", defaultValue = "2", description = "Chunks captured into the activation cache (default: ${DEFAULT-VALUE}).")
  int captureChunks;
  @Option(names = "--sae-latents", defaultValue = "65536", description = "SAE width (default: ${DEFAULT-VALUE}, Resa's).")
  int saeLatents;
  @Option(names = "--sae-k", defaultValue = "32", description = "SAE top-k (default: ${DEFAULT-VALUE}).")
  int saeK;
  @Option(names = "--sae-steps", defaultValue = "4", description = "SAE optimiser steps (default: ${DEFAULT-VALUE}).")
  int saeSteps;
  @Option(names = "--sae-batch-tokens", defaultValue = "1024", description = "Activations per SAE step (default: ${DEFAULT-VALUE}).")
  int saeBatchTokens;
  @Option(names = "--stage2-tokens", defaultValue = "512", description = "Tokens per Stage-II chunk (default: ${DEFAULT-VALUE}; Resa uses 2048, which does not fit 24 GB on CPU, see --help).")
  int stage2Tokens;
  @Option(names = "--stage2-batch", defaultValue = "1", description = "Chunks per Stage-II step (default: ${DEFAULT-VALUE}; Resa: 2).")
  int stage2Batch;
  @Option(names = "--stage2-steps", defaultValue = "2", description = "Stage-II optimiser steps (default: ${DEFAULT-VALUE}).")
  int stage2Steps;
  @Option(names = "--prompt-tokens", defaultValue = "32", description = "Prompt length before decoding (default: ${DEFAULT-VALUE}).")
  int promptTokens;
  @Option(names = "--gen-tokens", defaultValue = "64", description = "Tokens decoded with the KV cache (default: ${DEFAULT-VALUE}).")
  int genTokens;
  @Option(names = "--eval-problems", defaultValue = "5", description = "MATH500 problems evaluated (default: ${DEFAULT-VALUE}).")
  int evalProblems;
  @Option(names = "--eval-tokens", defaultValue = "4", description = "New tokens per evaluated problem (default: ${DEFAULT-VALUE}: random weights never answer, this times the path).")
  int evalTokens;
  @Option(names = "--max-rss-gb", defaultValue = "20", description = "Memory budget per stage; a stage estimated above it (or above what the machine has free) is refused before any work (default: ${DEFAULT-VALUE}).")
  double maxRssGb;
  @Mixin DataDirOption dataDir;
  @Option(names = "--no-torch", description = "Skip the PyTorch reference.")
  boolean noTorch;
  @Option(names = "--fixture-only", description = "Write the random-weight checkpoint folder (--fixture, --layers) and stop.")
  boolean fixtureOnly;

  /** One row of the table. */
  private record Row(String stage, double seconds, double tokens, long peakRssBytes, long estimateBytes, String note) {}

  private final List<Row> rows = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    Path data = dataDir.require();
    ModelConfig c = R1DistillFixture.config(layers);
    if (hookLayer < 0 || hookLayer >= layers) throw new IllegalArgumentException("--hook-layer " + hookLayer + " is outside 0.." + (layers - 1));
    long budget = budget();
    long weights = MemoryEstimate.weights(c);
    long sae = 4L * 4 * 2 * saeLatents * c.hiddenSize(); // wEnc + wDec with gradient and two Adam moments
    long saeActs = 4L * 6 * saeBatchTokens * saeLatents; // pre-activations, their gradient, top-k bookkeeping
    LoraConfig lora = LoraConfig.resa();
    long adapterParams = (long) (layers - 1 - hookLayer) * lora.r() * loraFanSum(c);
    // every stage's estimate, checked before any work
    long baseJvm = 700_000_000L + Runtime.getRuntime().maxMemory(); // JVM + libtorch, and a heap that may fill with garbage
    long estForward = baseJvm + weights + MemoryEstimate.forward(c, 1, forwardTokens);
    long estSae = baseJvm + weights + sae + saeActs;
    // two SAE copies: the trained one read back, and the trainer's until the collector frees its direct buffers
    // (the 28-layer run measured 19.5 GB against 17.4 GB estimated with one copy)
    long estStage2 = baseJvm + weights + sae / 2 + MemoryEstimate.stageTwoStep(c, hookLayer, stage2Batch, stage2Tokens, 256, adapterParams);
    long estMerge = baseJvm + weights + sae / 4 + 4L * mergedCopies(c) + 4L * c.vocabSize() * c.hiddenSize() * 2;
    if (!fixtureOnly) checkAll(c, budget, weights, new long[] {estForward, estSae, estStage2, estMerge});
    System.out.printf(Locale.ROOT, "bench scale: R1-Distill-Qwen-1.5B shape with %d layers (%.2f B parameters, %s as float32); budget %s per stage%n",
        layers, weights / 4e9, MemoryEstimate.gb(weights), MemoryEstimate.gb(budget));
    System.out.printf(Locale.ROOT, "load average at start: %s%n", loadAverage());
    Path dir = fixture != null ? fixture : Path.of(System.getProperty("user.home"), ".cache", "resa", "r1-distill-qwen-1.5b-random-L" + layers);
    resetPeak();
    long t0 = System.nanoTime();
    boolean existed = Files.isRegularFile(dir.resolve(R1DistillFixture.STAMP));
    R1DistillFixture.write(dir, layers, 0, 2_000_000_000L, data.resolve("tokenizers/qwen2"));
    add("write fixture (bf16 shards)", t0, 0, 0, existed ? "already there: " + dir : "written to " + dir);
    if (fixtureOnly) return 0;
    Tokenizer tok = Tokenizers.open(dir, c.vocabSize());
    List<Problem> problems = Benchmark.of("math500").load(data);
    int[] ids = tokens(tok, problems, Math.max(forwardTokens * Math.max(1, captureChunks), stage2Tokens * stage2Batch * stage2Steps));
    Path work = Files.createTempDirectory("resa-bench-scale");
    try {
      // Java first, then PyTorch in its own process once the Java model is freed: the two never share memory,
      // and the Java table is printed even if the reference is interrupted
      runJava(dir, c, tok, problems, ids, work, new long[] {estForward, estSae, estStage2, estMerge});
      System.gc(); // release the freed weights' direct buffers before python loads its own copy
      printTable("resa (Java, DJL / libtorch)");
      JsonObject torch = noTorch ? null : runTorch(dir, ids, work);
      if (torch != null) compare(torch);
      print(torch, dir);
    } finally {
      deleteTree(work);
    }
    return 0;
  }

  private int forwardRow = -1, generateRow = -1;
  private double[] javaLogits;
  private int[] javaGenerated;

  private void runJava(Path dir, ModelConfig c, Tokenizer tok, List<Problem> problems, int[] ids, Path work, long[] est)
      throws IOException {
    Path cacheDir = work.resolve("activations"), saeDir = work.resolve("sae"), adapterDir = work.resolve("adapter"), mergedDir = work.resolve("merged");
    try (NDManager root = Djl.newManager(ai.djl.Device.cpu())) {
      resetPeak();
      long t0 = System.nanoTime();
      DecoderLM model = HfCheckpoint.load(dir, root);
      add("load (mmap, bf16 widened once)", t0, 0, 700_000_000L + Runtime.getRuntime().maxMemory() + MemoryEstimate.weights(c) * 3 / 2,
          "float32 weights in native memory, once");

      resetPeak();
      t0 = System.nanoTime();
      try (NDManager step = model.stepScope()) {
        NDArray x = step.create(slice(ids, 0, forwardTokens), new Shape(1, forwardTokens));
        NDArray logits = model.logits(x); // [1, T, V]
        javaLogits = logits.get("0, -1, :8").toType(DataType.FLOAT64, false).toDoubleArray();
      }
      add("forward " + forwardTokens + " tokens (no grad)", t0, forwardTokens, est[0], "");
      forwardRow = rows.size() - 1;

      resetPeak();
      t0 = System.nanoTime();
      List<long[]> chunks = new ArrayList<>();
      for (int i = 0; i < captureChunks; i++) chunks.add(slice(ids, i * forwardTokens, forwardTokens));
      String hook = HOOK_LAYER_PREFIX + hookLayer;
      ActivationCache.write(cacheDir, new ActivationSource(model, List.of(hook)), chunks, 1, SafeTensors.FloatFormat.F32);
      add("capture " + hook + " into ActivationCache", t0, (double) captureChunks * forwardTokens, est[0],
          captureChunks + " chunks x " + forwardTokens + ", " + MemoryEstimate.gb(sizeOf(cacheDir)) + " on disk");

      resetPeak();
      t0 = System.nanoTime();
      SparseCoder trained;
      try (NDManager saeRoot = root.newSubManager()) {
        Map<String, SparseCoder> saes = SaeTrainer.fromScratch(List.of(hook), SparseCoderConfig.of(c.hiddenSize(), saeLatents, saeK), saeRoot, 0);
        try (SaeTrainer trainer = new SaeTrainer(SaeTrainer.Config.resa(), saes)) {
          Iterator<Map<String, NDArray>> batches = ActivationCache.stream(cacheDir, saeRoot, saeBatchTokens, saeBatchTokens * 2, 0);
          trainer.fit(batches, saeSteps);
          SparsifyFormat.write(saeDir, trainer.sae(hook));
        }
      }
      add("SAE " + saeSteps + " steps (" + saeLatents + " latents, k " + saeK + ")", t0, (double) saeSteps * saeBatchTokens, est[1],
          saeBatchTokens + " tokens/step; saved " + MemoryEstimate.gb(sizeOf(saeDir)));
      trained = SparsifyFormat.read(saeDir, root);

      resetPeak();
      t0 = System.nanoTime();
      List<int[]> stage2Chunks = new ArrayList<>();
      for (int i = 0; i < stage2Steps * stage2Batch; i++) stage2Chunks.add(toInts(slice(ids, i * stage2Tokens, stage2Tokens)));
      SaeTuning.Config cfg = SaeTuning.Config.resa(hookLayer).withBatchSize(stage2Batch).withEpochs(1);
      try (SaeTuning tuning = new SaeTuning(model, Splice.of(trained), cfg)) {
        LoraTrainer.Result r = tuning.train(stage2Chunks);
        tuning.adapter().save(adapterDir, "random-r1-distill-qwen-1.5b");
        add("Stage II " + r.steps() + " steps (prefix shortcut, LoRA r" + cfg.lora().r() + ", layers " + (hookLayer + 1) + "-" + (layers - 1) + ")", t0,
            (double) stage2Chunks.size() * stage2Tokens, est[2], String.format(Locale.ROOT, "%d x %d tokens/step, KL %.3f -> %.3f; adapter %s",
                stage2Batch, stage2Tokens, r.firstLoss(), r.lastLoss(), MemoryEstimate.gb(sizeOf(adapterDir))));
        resetPeak();
        t0 = System.nanoTime();
        tuning.saveMerged(mergedDir);
        add("merge + save (float32)", t0, 0, est[3], "merged model " + MemoryEstimate.gb(sizeOf(mergedDir)));
      }
      deleteTree(mergedDir);
      trained.close();

      resetPeak();
      int[] prompt = slice32(ids, promptTokens);
      t0 = System.nanoTime();
      int[] gen = new Generator(model).generate(List.of(prompt), Generator.Sampling.greedy(genTokens, Set.of())).get(0);
      add("generate " + genTokens + " tokens (KV cache, greedy)", t0, genTokens, est[0], "after a " + promptTokens + "-token prompt, prefill included");
      generateRow = rows.size() - 1;
      javaGenerated = gen;

      resetPeak();
      t0 = System.nanoTime();
      EvalConfig ec = new EvalConfig(1, evalTokens, 0.0, 1.0, 0, evalProblems, evalProblems, Prompts.RESA);
      Evaluator.Result er = new Evaluator(new LmBackend(model, tok, "random-r1-shape", false), ec).run("math500", problems, null);
      add("Evaluator: " + evalProblems + " MATH500 problems, R1 prompt", t0, (double) evalProblems * evalTokens, est[0],
          String.format(Locale.ROOT, "%d new tokens each (random weights: only the path is timed); pass@1 %.2f", evalTokens, er.summary().pass1()));
      model.close();
    }
  }

  /** Adds PyTorch's times, the speed ratios and the agreement checks to the forward and generation rows. */
  private void compare(JsonObject torch) {
    Row f = rows.get(forwardRow);
    double torchFwd = torch.get("forward_s").getAsDouble();
    double diff = 0;
    JsonArray tl = torch.getAsJsonArray("forward_last_logits");
    for (int i = 0; i < tl.size(); i++) diff = Math.max(diff, Math.abs(tl.get(i).getAsDouble() - javaLogits[i]));
    rows.set(forwardRow, withNote(f, String.format(Locale.ROOT, "torch %.1f s; resa/torch speed %.2fx; last-position logits max |diff| %.1e",
        torchFwd, torchFwd / f.seconds(), diff)));
    Row g = rows.get(generateRow);
    double torchGen = torch.get("prefill_s").getAsDouble() + torch.get("decode_s").getAsDouble();
    JsonArray tg = torch.getAsJsonArray("generated");
    int same = 0;
    while (same < Math.min(tg.size(), javaGenerated.length) && tg.get(same).getAsInt() == javaGenerated[same]) same++;
    rows.set(generateRow, withNote(g, String.format(Locale.ROOT, "torch %.1f s; resa/torch speed %.2fx; first %d of %d greedy tokens identical",
        torchGen, torchGen / g.seconds(), same, javaGenerated.length)));
  }

  private Row withNote(Row r, String note) {
    return new Row(r.stage(), r.seconds(), r.tokens(), r.peakRssBytes(), r.estimateBytes(), r.note().isEmpty() ? note : r.note() + "; " + note);
  }

  private double add(String stage, long startNanos, double tokens, long estimate, String note) throws IOException {
    double s = (System.nanoTime() - startNanos) / 1e9;
    rows.add(new Row(stage, s, tokens, peakRss(), estimate, note));
    System.out.printf(Locale.ROOT, "  done: %-58s %8.1f s  peak RSS %s%n", stage, s, MemoryEstimate.gb(peakRss()));
    return s;
  }

  private void printTable(String title) {
    System.out.println();
    System.out.println(title + ":");
    System.out.printf(Locale.ROOT, "| %-62s | %9s | %9s | %13s | %9s | %s%n", "stage", "wall s", "tokens/s", "peak RSS", "estimate", "notes");
    System.out.printf(Locale.ROOT, "|%s|%s|%s|%s|%s|------%n", "-".repeat(64), "-".repeat(11), "-".repeat(11), "-".repeat(15), "-".repeat(11));
    long worst = 0;
    for (Row r : rows) {
      worst = Math.max(worst, r.peakRssBytes());
      System.out.printf(Locale.ROOT, "| %-62s | %9.1f | %9s | %13s | %9s | %s%n", r.stage(), r.seconds(),
          r.tokens() > 0 ? String.format(Locale.ROOT, "%.1f", r.tokens() / r.seconds()) : "", MemoryEstimate.gb(r.peakRssBytes()),
          r.estimateBytes() > 0 ? MemoryEstimate.gb(r.estimateBytes()) : "", r.note());
    }
    System.out.printf(Locale.ROOT, "%nhighest peak RSS of any Java stage: %s (target < 20 GB)%n", MemoryEstimate.gb(worst));
  }

  private void print(JsonObject torch, Path dir) throws IOException {
    printTable("resa with the PyTorch reference");
    if (torch != null) {
      System.out.printf(Locale.ROOT, "PyTorch %s eager (%d threads, own process, run after the Java stages): load %.1f s, forward %.1f s, prefill %.1f s + %d decode steps %.1f s, peak RSS %s%n",
          torch.get("torch").getAsString(), torch.get("threads").getAsInt(), torch.get("load_s").getAsDouble(), torch.get("forward_s").getAsDouble(),
          torch.get("prefill_s").getAsDouble(), torch.get("decode_steps").getAsInt(), torch.get("decode_s").getAsDouble(),
          MemoryEstimate.gb(torch.get("peak_rss_kb").getAsLong() * 1024));
    }
    System.out.printf(Locale.ROOT, "checkpoint on disk: %s (%s)%n", MemoryEstimate.gb(sizeOf(dir)), dir);
    System.out.printf(Locale.ROOT, "load average at end: %s%n", loadAverage());
  }

  /** Sum over the 7 projections of (in + out): the LoRA parameters per layer per unit of rank. */
  private static long loraFanSum(ModelConfig c) {
    long d = c.hiddenSize(), q = (long) c.numHeads() * c.headDim(), kv = (long) c.numKvHeads() * c.headDim(), i = c.intermediateSize();
    return (d + q) + 2 * (d + kv) + (q + d) + 2 * (d + i) + (i + d);
  }

  /** Parameters of the seven projections of the suffix layers (their merged copies live until written). */
  private long mergedCopies(ModelConfig c) {
    long d = c.hiddenSize(), q = (long) c.numHeads() * c.headDim(), kv = (long) c.numKvHeads() * c.headDim(), i = c.intermediateSize();
    return (long) (layers - 1 - hookLayer) * (2 * d * q + 2 * d * kv + 3 * d * i);
  }

  /** Refuses, before any work, a configuration whose estimated peak exceeds the budget or the direct-memory limit. */
  private void checkAll(ModelConfig c, long budget, long weights, long[] est) {
    long estForward = est[0], estSae = est[1], estStage2 = est[2], estMerge = est[3];
    MemoryEstimate.require("the " + forwardTokens + "-token forward", estForward, budget, "lower --forward-tokens");
    MemoryEstimate.require("SAE training at " + saeLatents + " latents", estSae, budget, "lower --sae-latents or --sae-batch-tokens");
    MemoryEstimate.require("a Stage-II step of " + stage2Batch + " x " + stage2Tokens + " tokens", estStage2, budget,
        "lower --stage2-tokens (chunk length) or --stage2-batch");
    MemoryEstimate.require("merging the adapter", estMerge, budget, "use fewer --layers");
    long direct = maxDirectMemory();
    long directNeed = weights + 4L * 2 * saeLatents * c.hiddenSize() + 500_000_000L; // weights, one SAE, tables
    if (direct < directNeed) {
      throw new IllegalStateException(String.format(Locale.ROOT, "the weights and the SAE live in direct buffers: about %s, but "
          + "-XX:MaxDirectMemorySize is %s; run with RESA_JAVA_OPTS='-Xmx4g -XX:MaxDirectMemorySize=%dg' (or use fewer --layers)",
          MemoryEstimate.gb(directNeed), MemoryEstimate.gb(direct), (long) Math.ceil(directNeed / 1e9) + 2));
    }
  }

  /** -XX:MaxDirectMemorySize as given on the command line, else the JVM default (the maximum heap). */
  private static long maxDirectMemory() {
    for (String arg : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("-XX:MaxDirectMemorySize=")) {
        String v = arg.substring(arg.indexOf('=') + 1).toLowerCase(Locale.ROOT);
        long unit = v.endsWith("g") ? 1L << 30 : v.endsWith("m") ? 1L << 20 : v.endsWith("k") ? 1L << 10 : 1;
        return Long.parseLong(unit == 1 ? v : v.substring(0, v.length() - 1)) * unit;
      }
    }
    return Runtime.getRuntime().maxMemory();
  }

  private long budget() {
    long cap = (long) (maxRssGb * 1e9);
    long avail = MemoryEstimate.availableToThisProcess();
    return avail > 0 ? Math.min(cap, avail) : cap;
  }

  /** Token ids of MATH500 problems in R1's chat template, concatenated until {@code n}. */
  private static int[] tokens(Tokenizer tok, List<Problem> problems, int n) {
    int[] out = new int[n];
    int filled = 0;
    for (int i = 0; filled < n; i++) {
      int[] t = tok.encode(Prompts.RESA.render(problems.get(i % problems.size())));
      int m = Math.min(t.length, n - filled);
      System.arraycopy(t, 0, out, filled, m);
      filled += m;
    }
    return out;
  }

  private static long[] slice(int[] ids, int from, int n) {
    long[] out = new long[n];
    for (int i = 0; i < n; i++) out[i] = ids[from + i];
    return out;
  }

  private static int[] slice32(int[] ids, int n) {
    return java.util.Arrays.copyOf(ids, n);
  }

  private static int[] toInts(long[] a) {
    int[] out = new int[a.length];
    for (int i = 0; i < a.length; i++) out[i] = (int) a[i];
    return out;
  }

  /** Runs scale_torch.py on the same folder and ids; null (with a note) when python3-torch is missing. */
  private JsonObject runTorch(Path dir, int[] ids, Path work) throws IOException, InterruptedException {
    TorchReference torch;
    try {
      torch = TorchReference.require(TorchReference.DEFAULT_PYTHON);
    } catch (IllegalStateException e) {
      System.out.println("(PyTorch reference skipped: /usr/bin/python3 with torch not found; apt-get install python3-torch)");
      return null;
    }
    long free = MemoryEstimate.availableToThisProcess() - currentRss();
    long need = MemoryEstimate.weights(R1DistillFixture.config(layers)) * 3 / 2 + 4L * forwardTokens * 151936 + 1_000_000_000L;
    if (free < need) {
      System.out.printf(Locale.ROOT, "(PyTorch reference skipped: it needs about %s and only %s is free now)%n", MemoryEstimate.gb(need), MemoryEstimate.gb(free));
      return null;
    }
    Path tokensFile = work.resolve("tokens.txt");
    StringBuilder sb = new StringBuilder();
    for (int id : ids) sb.append(id).append(' ');
    Files.writeString(tokensFile, sb.toString());
    JsonObject c = new JsonObject();
    c.addProperty("dir", dir.toString());
    c.addProperty("tokens_file", tokensFile.toString());
    c.addProperty("forward_tokens", forwardTokens);
    c.addProperty("prompt_tokens", promptTokens);
    c.addProperty("gen_tokens", genTokens);
    c.addProperty("threads", Runtime.getRuntime().availableProcessors());
    System.out.println("running the PyTorch eager reference (its own process, after the Java model is freed) ...");
    long t0 = System.nanoTime();
    JsonObject result = torch.run("scale_torch.py", List.of(c.toString()));
    System.out.printf(Locale.ROOT, "  done: PyTorch reference in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    return result;
  }

  /** Resets the kernel's high-water mark of this process's RSS (VmHWM), so each stage reports its own peak. */
  private static void resetPeak() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
    } catch (IOException | RuntimeException e) {
      // not Linux, or not permitted: peaks are then cumulative, which only overstates them
    }
  }

  private static long currentRss() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return 0;
  }

  private static long peakRss() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
    }
    return -1;
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static long sizeOf(Path p) throws IOException {
    if (!Files.exists(p)) return 0;
    try (Stream<Path> s = Files.walk(p)) {
      return s.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (Stream<Path> s = Files.walk(p)) {
      for (Path f : (Iterable<Path>) s.sorted(java.util.Comparator.reverseOrder())::iterator) Files.deleteIfExists(f);
    }
  }
}
