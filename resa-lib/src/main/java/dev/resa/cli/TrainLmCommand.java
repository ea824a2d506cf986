package dev.resa.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonParser;
import dev.resa.activations.Packing;
import dev.resa.core.Djl;
import dev.resa.model.DecoderLM;
import dev.resa.model.HfCheckpoint;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import dev.resa.tokenizer.CharTokenizer;
import dev.resa.tokenizer.Tokenizer;
import dev.resa.train.LmTrainer;
import dev.resa.train.TrainLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./resa train-lm}: trains a small Qwen2-architecture model from scratch on a text or JSONL file. */
@Command(name = "train-lm", mixinStandardHelpOptions = true,
    description = {"Train a tiny decoder LM from scratch on a text file (one document per line) or JSONL.",
        "Writes a Hugging Face folder (config.json, model.safetensors), the tokenizer, train_log.csv and a",
        "resumable trainer-state.safetensors to --out."})
public final class TrainLmCommand implements Callable<Integer> {
  static final String CHAR_TOKENIZER_FILE = "char_tokenizer.json";

  @Option(names = "--data", required = true, description = "Text file (one document per line) or .jsonl file.")
  Path data;

  @Option(names = "--field", defaultValue = "text", description = "JSONL field holding the text (default: ${DEFAULT-VALUE}).")
  String field;

  @Option(names = "--tokenizer", defaultValue = "char",
      description = "'char' (alphabet of the corpus plus <pad> <bos> <eos> <think> </think>) or a saved char tokenizer JSON (default: ${DEFAULT-VALUE}).")
  String tokenizer;

  @Option(names = "--hidden", defaultValue = "128", description = "Hidden size (default: ${DEFAULT-VALUE}).")
  int hidden;

  @Option(names = "--layers", defaultValue = "4", description = "Decoder layers (default: ${DEFAULT-VALUE}).")
  int layers;

  @Option(names = "--heads", defaultValue = "4", description = "Query heads (default: ${DEFAULT-VALUE}).")
  int heads;

  @Option(names = "--kv-heads", defaultValue = "2", description = "Key/value heads, grouped-query attention (default: ${DEFAULT-VALUE}).")
  int kvHeads;

  @Option(names = "--intermediate", defaultValue = "384", description = "SwiGLU width (default: ${DEFAULT-VALUE}).")
  int intermediate;

  @Option(names = "--seq-len", defaultValue = "128", description = "Tokens per training sequence (default: ${DEFAULT-VALUE}).")
  int seqLen;

  @Option(names = "--steps", defaultValue = "1000", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--batch", defaultValue = "16", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--lr", defaultValue = "1e-3", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--warmup", defaultValue = "100", description = "Linear warm-up steps before the cosine decay (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--seed", defaultValue = "0", description = "Seed for the initial weights and the data order (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--checkpoint-every", defaultValue = "200", description = "Steps between resumable checkpoints (default: ${DEFAULT-VALUE}).")
  int checkpointEvery;

  @Mixin OutputOption out;

  @Option(names = "--resume", description = "Continue from --out/" + LmTrainer.STATE_FILE + " (same data and options).")
  boolean resume;

  @Mixin DeviceOption device = new DeviceOption("auto");

  @Override
  public Integer call() throws IOException {
    List<String> docs = Packing.readDocuments(data, field);
    Tokenizer tok = loadTokenizer(docs);
    List<long[]> chunks = Packing.pack(docs, tok, seqLen + 1);
    if (chunks.isEmpty()) {
      throw new IllegalArgumentException(data + ": corpus has fewer than " + (seqLen + 1) + " tokens; lower --seq-len");
    }
    System.err.printf(Locale.ROOT, "train-lm: %d documents, %d chunks of %d tokens, vocab %d%n", docs.size(), chunks.size(), seqLen + 1, tok.vocabSize());
    ModelConfig config = ModelConfig.tinyQwen2(tok.vocabSize(), hidden, layers, heads, kvHeads, intermediate, seqLen)
        .withTokens(tok.bosId(), tok.eosId());
    LmTrainer.Config tc = LmTrainer.Config.defaults().withSteps(steps).withBatch(batch).withLr(lr, warmup).withSeed(seed)
        .withCheckpoints(out.dir, checkpointEvery);
    Device dev = device.device();
    try (NDManager manager = Djl.newManager(dev);
         DecoderLM model = new DecoderLM(config, Weights.random(config, manager.newSubManager(), seed, DataType.FLOAT32))) {
      System.err.printf(Locale.ROOT, "train-lm: %,d parameters on %s%n", model.weights().parameterCount(), dev);
      try (LmTrainer trainer = new LmTrainer(model, tc, chunks)) {
        if (resume) {
          trainer.resume(out.dir.resolve(LmTrainer.STATE_FILE));
          System.err.printf("train-lm: resumed at step %d%n", trainer.step());
        }
        TrainLog log = trainer.train();
        HfCheckpoint.save(model, out.dir);
        log.save(out.dir.resolve("train_log.csv"));
        double[] losses = log.losses();
        System.out.printf(Locale.ROOT, "trained %d steps: loss %.4f -> %.4f; wrote %s%n", trainer.step(), losses[0], losses[losses.length - 1], out.dir.toAbsolutePath());
      }
    }
    return 0;
  }

  private Tokenizer loadTokenizer(List<String> docs) throws IOException {
    Path saved = out.dir.resolve(CHAR_TOKENIZER_FILE);
    if (tokenizer.equals("char")) {
      if (resume && Files.isRegularFile(saved)) return CharTokenizer.load(saved);
      TreeSet<Integer> cps = new TreeSet<>();
      for (String d : docs) d.codePoints().forEach(cps::add);
      StringBuilder alphabet = new StringBuilder();
      for (int cp : cps) alphabet.appendCodePoint(cp);
      CharTokenizer tok = new CharTokenizer(alphabet.toString());
      tok.save(saved);
      return tok;
    }
    Path file = Path.of(tokenizer);
    if (!Files.isRegularFile(file)) throw new IOException("tokenizer file not found: " + file);
    var json = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    if (json.has("type") && json.get("type").getAsString().equals("char")) {
      CharTokenizer tok = CharTokenizer.load(file);
      tok.save(saved);
      return tok;
    }
    throw new IOException(file + ": only character tokenizers are supported by train-lm for now (HF tokenizer.json support comes with HfTokenizer)");
  }

  /** Writes {@code config.json} and {@code model.safetensors} (tied heads omit {@code lm_head.weight}, as HF does). */}
