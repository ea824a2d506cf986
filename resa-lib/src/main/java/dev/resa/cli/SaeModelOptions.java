package dev.resa.cli;

import ai.djl.ndarray.NDManager;
import dev.resa.model.DecoderLM;
import dev.resa.activations.Packing;
import dev.resa.activations.TriggerData;
import dev.resa.tokenizer.Tokenizer;
import dev.resa.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Model, tokenizer and data options shared by {@code train-sae} and {@code sae-metrics}. */
final class SaeModelOptions {
  @ArgGroup(exclusive = true, multiplicity = "1")
  ModelSource source;

  @Option(names = "--tokenizer", paramLabel = "FILE", description = "tok.bin (llama2.c) or tokenizer.json. Default: tokenizer.json in --model.")
  Path tokenizer;

  @Option(names = "--data", paramLabel = "FILE", split = ",", required = true,
      description = "Problem/answer records (.jsonl or .json array; fields problem|question|prompt and answer), formatted with Resa's trigger template. Relative paths resolve against the data dir.")
  List<Path> data;

  @Option(names = "--limit", defaultValue = "0", description = "Examples per data file, 0 = all (default: ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = "--ctx-len", defaultValue = "2048", description = "Tokens per packed chunk (sparsify/Resa: ${DEFAULT-VALUE}).")
  int ctxLen;

  @Mixin DataDirOption dataDir;

  DecoderLM loadModel(NDManager manager) throws IOException {
    return source.load(manager);
  }

  Tokenizer loadTokenizer(int vocab) throws IOException {
    Path file = tokenizer != null ? tokenizer : source.tokenizerJson();
    if (file == null) throw new IllegalArgumentException("--tokenizer is required (no tokenizer.json in --model; with --llama2c e.g. tok512.bin)");
    if (!Files.exists(file)) throw new IOException("tokenizer not found: " + file);
    return Tokenizers.open(file, vocab); // the one place that tells tok.bin, char and HF tokenizers apart
  }

  /** Every --data file's records in Resa's trigger template, {@code --limit} per file. */
  List<String> triggerTexts() throws IOException {
    List<String> texts = new ArrayList<>();
    for (Path p : data) {
      Path file = resolveData(p);
      try {
        texts.addAll(TriggerData.load(file, limit));
      } catch (com.google.gson.JsonParseException | IllegalStateException e) { // a .json array file that is not JSON, or holds non-objects
        throw new IOException(file + ": " + e.getMessage(), e);
      }
    }
    return texts;
  }

  /** {@code texts} packed into chunks of {@code --ctx-len} tokens; fails when they do not fill even one. */
  List<long[]> pack(List<String> texts, Tokenizer tok) {
    List<long[]> chunks = Packing.pack(texts, tok, ctxLen);
    if (chunks.isEmpty()) throw new IllegalArgumentException("the data is shorter than one " + ctxLen + "-token chunk");
    return chunks;
  }

  Path resolveData(Path p) {
    if (p.isAbsolute() || Files.exists(p)) return p;
    return dataDir.require().resolve(p);
  }
}
