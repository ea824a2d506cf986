package dev.resa.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.core.Djl;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code tokenizer.json}, run by DJL's binding of the Rust {@code tokenizers} library, offline.
 *
 * <p>DJL's defaults would truncate to 512 tokens, pad batches and add special tokens; all three are switched off
 * here, so {@link #encode} returns exactly the tokens of the text. The file is handed over as a stream, never as a
 * hub id, so nothing is ever downloaded. BOS / EOS / pad come from a {@code tokenizer_config.json} next to the
 * file when there is one (Qwen3: EOS {@code <|im_end|>}, pad {@code <|endoftext|>}, no BOS); without it EOS and pad
 * are {@code <|endoftext|>} (Qwen2 base, GPT-2) and there is no BOS.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {
  private static final Map<String, String> OPTIONS = Map.of(
      "addSpecialTokens", "false", "truncation", "false", "padding", "false", "maxLength", "-1");

  private final HuggingFaceTokenizer tokenizer;
  private final Map<String, Integer> ids;
  private final int vocabSize;
  private final int bos;
  private final int eos;
  private final int pad;

  private HfTokenizer(HuggingFaceTokenizer tokenizer, Map<String, Integer> ids, int bos, int eos, int pad) {
    this.tokenizer = tokenizer;
    this.ids = ids;
    this.bos = bos;
    this.eos = eos;
    this.pad = pad;
    this.vocabSize = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
  }

  /** Opens a {@code tokenizer.json} file, or a folder that holds one. */
  public static HfTokenizer open(Path path) throws IOException {
    Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
    if (!Files.isRegularFile(file)) throw new IOException("tokenizer.json not found: " + file);
    byte[] bytes = Files.readAllBytes(file);
    Map<String, Integer> ids = new HashMap<>();
    try {
      JsonObject j = JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8)).getAsJsonObject();
      JsonObject model = j.getAsJsonObject("model");
      if (model != null && model.has("vocab") && model.get("vocab").isJsonObject()) {
        for (Map.Entry<String, JsonElement> e : model.getAsJsonObject("vocab").entrySet()) ids.put(e.getKey(), e.getValue().getAsInt());
      }
      if (j.has("added_tokens")) {
        for (JsonElement t : j.getAsJsonArray("added_tokens")) {
          JsonObject o = t.getAsJsonObject();
          ids.put(o.get("content").getAsString(), o.get("id").getAsInt());
        }
      }
    } catch (RuntimeException e) {
      throw new IOException(file + ": not a tokenizer.json (" + e.getMessage() + ")", e);
    }
    if (ids.isEmpty()) throw new IOException(file + ": no vocabulary found under 'model.vocab' or 'added_tokens'");
    Djl.init(); // offline switch before DJL's tokenizer touches anything
    HuggingFaceTokenizer hf;
    try {
      hf = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(bytes), OPTIONS);
    } catch (RuntimeException e) {
      throw new IOException(file + ": the tokenizers library rejected it: " + e.getMessage(), e);
    }
    Path config = file.resolveSibling("tokenizer_config.json");
    int bos = special(config, "bos_token", ids, -1);
    int eos = special(config, "eos_token", ids, ids.getOrDefault("<|endoftext|>", -1));
    int pad = special(config, "pad_token", ids, eos);
    return new HfTokenizer(hf, ids, bos, eos, pad);
  }

  private static int special(Path config, String key, Map<String, Integer> ids, int fallback) throws IOException {
    if (!Files.isRegularFile(config)) return fallback;
    JsonObject j;
    try {
      j = JsonParser.parseString(Files.readString(config)).getAsJsonObject();
    } catch (RuntimeException e) {
      throw new IOException(config + ": not a JSON object (" + e.getMessage() + ")", e);
    }
    JsonElement v = j.get(key);
    if (v == null || v.isJsonNull()) return fallback;
    String token = v.isJsonObject() ? v.getAsJsonObject().get("content").getAsString() : v.getAsString();
    Integer id = ids.get(token);
    if (id == null) throw new IOException(config + ": " + key + " '" + token + "' is not in the vocabulary");
    return id;
  }

  @Override
  public int[] encode(String text) {
    long[] ids = tokenizer.encode(text, false, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
    return out;
  }

  @Override
  public String decode(int[] ids) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) l[i] = ids[i];
    return tokenizer.decode(l, false);
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public OptionalInt tokenId(String token) {
    return Tokenizers.found(ids.get(token));
  }

  @Override
  public int bosId() {
    return bos;
  }

  @Override
  public int eosId() {
    return eos;
  }

  @Override
  public int padId() {
    return pad;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
