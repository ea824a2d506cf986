package dev.resa.tokenizer;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Builds a HF {@code tokenizer.json} from the parts byte-level BPE tokenizers ship as: {@code vocab.json}
 * (token to id) and {@code merges.txt} (one merge per line, rank = line order, after a {@code #version} line).
 *
 * <p>Qwen2 / Qwen2.5 / Qwen3 / R1-Distill-Qwen share one BPE and differ in their added tokens; the Qwen3 skeleton
 * (normalizer, pre-tokenizer regex, decoder, added tokens such as {@code <think>} = 151667) supplies the rest.
 * GPT-2's pipeline is small enough to write out here.
 */
public final class TokenizerJson {
  private TokenizerJson() {}

  /**
   * Qwen tokenizer from {@code dir} = {@code tokenizers/qwen2} of the data folder: {@code vocab.json},
   * {@code merges.txt} and {@code qwen3_tokenizer_skeleton.json}. Writes {@code out} atomically and returns it.
   */
  public static Path qwen(Path dir, Path out) throws IOException {
    JsonObject root = readObject(dir.resolve("qwen3_tokenizer_skeleton.json"));
    JsonObject model = root.getAsJsonObject("model");
    if (model == null) throw new IOException(dir.resolve("qwen3_tokenizer_skeleton.json") + ": missing key 'model'");
    model.add("vocab", readObject(dir.resolve("vocab.json")));
    model.add("merges", merges(dir.resolve("merges.txt")));
    AtomicFiles.writeString(out, new GsonBuilder().disableHtmlEscaping().create().toJson(root));
    return out;
  }

  /** GPT-2 tokenizer from {@code dir} = {@code tokenizers/gpt2}: {@code encoder.json} and {@code vocab.bpe}. */
  public static Path gpt2(Path dir, Path out) throws IOException {
    JsonObject byteLevel = new JsonObject();
    byteLevel.addProperty("type", "ByteLevel");
    byteLevel.addProperty("add_prefix_space", false);
    byteLevel.addProperty("trim_offsets", true);
    byteLevel.addProperty("use_regex", true); // GPT-2's own split regex
    JsonObject model = new JsonObject();
    model.addProperty("type", "BPE");
    model.add("dropout", null);
    model.add("unk_token", null);
    model.addProperty("continuing_subword_prefix", "");
    model.addProperty("end_of_word_suffix", "");
    model.addProperty("fuse_unk", false);
    model.addProperty("byte_fallback", false);
    model.add("vocab", readObject(dir.resolve("encoder.json")));
    model.add("merges", merges(dir.resolve("vocab.bpe")));
    JsonObject eot = new JsonObject();
    eot.addProperty("id", 50256);
    eot.addProperty("content", "<|endoftext|>");
    eot.addProperty("single_word", false);
    eot.addProperty("lstrip", false);
    eot.addProperty("rstrip", false);
    eot.addProperty("normalized", true);
    eot.addProperty("special", true);
    JsonArray added = new JsonArray();
    added.add(eot);
    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    root.add("truncation", null);
    root.add("padding", null);
    root.add("added_tokens", added);
    root.add("normalizer", null);
    root.add("pre_tokenizer", byteLevel);
    root.add("post_processor", byteLevel);
    root.add("decoder", byteLevel);
    root.add("model", model);
    AtomicFiles.writeString(out, new GsonBuilder().serializeNulls().disableHtmlEscaping().create().toJson(root));
    return out;
  }

  private static JsonObject readObject(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new IOException("tokenizer part not found: " + file);
    try {
      return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    } catch (RuntimeException e) {
      throw new IOException(file + ": not a JSON object (" + e.getMessage() + ")", e);
    }
  }

  /** Merges as "a b" strings, skipping the {@code #version} header and blank lines. */
  private static JsonArray merges(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new IOException("tokenizer part not found: " + file);
    List<String> lines = Files.readAllLines(file);
    JsonArray out = new JsonArray();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isEmpty() || (i == 0 && line.startsWith("#version"))) continue;
      if (line.indexOf(' ') <= 0) throw new IOException(file + ":" + (i + 1) + ": a merge must be two tokens separated by a space, got '" + line + "'");
      out.add(line);
    }
    return out;
  }
}
