package dev.resa.cli;

import ai.djl.ndarray.NDManager;
import dev.resa.activations.ActivationSource;
import dev.resa.model.DecoderLM;
import dev.resa.sae.SaeTrainer;
import dev.resa.sae.SparseCoder;
import dev.resa.sae.SparseCoderConfig;
import dev.resa.sae.SparsifyFormat;
import dev.resa.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tech.tablesaw.api.Table;

/**
 * {@code ./resa train-sae}: Stage I of Resa. Packs trigger-formatted data, runs the model once per batch up to the
 * deepest hook point, and trains one TopK SAE per hook point with sparsify's recipe; writes sparsify's layout.
 */
@Command(name = "train-sae", mixinStandardHelpOptions = true,
    description = "Train TopK SAEs on a model's activations (Resa Stage I); writes <out>/<hook>/cfg.json + sae.safetensors.")
public final class TrainSaeCommand implements Callable<Integer> {
  @Mixin SaeModelOptions io;

  @Option(names = "--hook", split = ",", required = true, description = "Hook points, e.g. layers.12 (several share one activation pass).")
  List<String> hooks;

  @Option(names = "--latents", defaultValue = "65536", description = "Latents n (Resa: ${DEFAULT-VALUE}).")
  int latents;

  @Option(names = "--k", defaultValue = "32", description = "Active latents per token (Resa: ${DEFAULT-VALUE}).")
  int k;

  /** Where the SAEs start: fresh weights, or saved SAEs given with {@code --init}. */
  enum Mode { SCRATCH, FINETUNE }

  @Option(names = "--mode", defaultValue = "scratch",
      description = "scratch (Resa's trained-from-scratch; also how to pre-train on another model/corpus) or finetune (--init; b_dec is reset to the data mean). Default: ${DEFAULT-VALUE}.")
  Mode mode;

  @Option(names = "--init", paramLabel = "DIR", description = "For --mode finetune: folder holding <hook>/ (or <hook>.mlp/, as EleutherAI ships) SAEs in sparsify's layout.")
  Path init;

  @Option(names = "--batch-seqs", defaultValue = "16", description = "Chunks per optimiser step (Resa: 16 per rank).")
  int batchSeqs;

  @Option(names = "--steps", defaultValue = "0", description = "Optimiser steps; 0 = one epoch, as Resa (default: ${DEFAULT-VALUE}).")
  long steps;

  @Option(names = "--optimizer", defaultValue = "SIGNUM", description = "SIGNUM (SignSGD + Schedule-Free, Resa) or ADAM.")
  SaeTrainer.Optimizer optimizer;

  @Option(names = "--lr", defaultValue = "0", description = "Learning rate; 0 = sparsify's automatic 5e-3/sqrt(n/2^14).")
  double lr;

  @Option(names = "--auxk-alpha", defaultValue = "0", description = "AuxK dead-latent loss weight (Resa: 0).")
  double auxkAlpha;

  @Option(names = "--dead-threshold", defaultValue = "10000000", description = "Tokens without firing before a latent is dead (sparsify: ${DEFAULT-VALUE}).")
  long deadThreshold;

  @Option(names = "--seed", defaultValue = "42", description = "SAE init seed (Resa: ${DEFAULT-VALUE}).")
  long seed;

  @Mixin OutputOption out;

  @Option(names = "--checkpoint-every", defaultValue = "0", description = "Steps between trainer checkpoints in --out (0 = none; default: ${DEFAULT-VALUE}).")
  int checkpointEvery;

  @Option(names = "--resume", description = "Continue from --out/" + SaeTrainer.STATE_FILE + " (same data and options).")
  boolean resume;

  @Override
  public Integer call() throws Exception {
    List<String> texts = io.triggerTexts();
    try (NDManager manager = NDManager.newBaseManager(); DecoderLM model = io.loadModel(manager)) {
      Tokenizer tok = io.loadTokenizer(model.config().vocabSize());
      List<long[]> chunks = io.pack(texts, tok);
      ActivationSource src = new ActivationSource(model, hooks);
      SparseCoderConfig shape = SparseCoderConfig.of(src.width(), latents, k);
      Map<String, SparseCoder> saes = switch (mode) {
        case SCRATCH -> SaeTrainer.fromScratch(hooks, shape, manager, seed);
        case FINETUNE -> loadInit(manager, model);
      };
      System.err.printf("train-sae: %d examples -> %d chunks x %d tokens; hooks %s; n=%d k=%d; %s%n", texts.size(), chunks.size(), io.ctxLen, hooks,
          latents, k, mode);
      SaeTrainer.Config cfg = SaeTrainer.Config.resa().withOptimizer(optimizer).withLr(lr).withAuxk(auxkAlpha).withDeadThreshold(deadThreshold)
          .withCheckpoints(out.dir, checkpointEvery);
      try (SaeTrainer trainer = new SaeTrainer(cfg, saes)) {
        if (resume) {
          trainer.resume(out.dir);
          System.err.printf("train-sae: resumed at step %d%n", trainer.steps());
        }
        long epoch = (chunks.size() + batchSeqs - 1) / batchSeqs;
        Table h = trainer.fit(src.batches(chunks, batchSeqs, manager), steps > 0 ? Math.min(steps, epoch) : epoch);
        trainer.save(out.dir);
        Files.createDirectories(out.dir);
        h.write().csv(out.dir.resolve("training.csv").toFile());
        int rows = h.rowCount();
        System.out.println(h.last(Math.min(rows, hooks.size())).print());
        System.out.println("saved the averaged SAEs to " + out + " (history: training.csv)");
      }
    }
    return 0;
  }

  private Map<String, SparseCoder> loadInit(NDManager manager, DecoderLM model) throws java.io.IOException {
    if (init == null) throw new IllegalArgumentException("--mode finetune needs --init DIR");
    Map<String, SparseCoder> saes = new LinkedHashMap<>();
    for (String h : hooks) {
      Path dir = init.resolve(h);
      if (!Files.isDirectory(dir) && Files.isDirectory(init.resolve(h + ".mlp"))) dir = init.resolve(h + ".mlp"); // Resa's rename_layer
      if (!Files.isDirectory(dir) && hooks.size() == 1 && Files.isRegularFile(init.resolve(SparsifyFormat.CFG))) dir = init;
      SparseCoder s = SparsifyFormat.read(dir, manager);
      SparsifyFormat.requireFits(s.config(), model.config(), h);
      if (s.config().numLatents() != latents || s.config().k() != k) {
        System.err.printf("train-sae: %s has n=%d k=%d (overrides --latents/--k)%n", dir, s.config().numLatents(), s.config().k());
      }
      saes.put(h, s);
    }
    return saes;
  }
}
