package dev.resa.tokenizer;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

/** Opens any tokenizer file this project understands, chosen by what the path holds. */
public final class Tokenizers {
  private Tokenizers() {}

  /**
   * Opens {@code path}:
   *
   * <ul>
   *   <li>{@code *.bin}: a llama2.c tokenizer with {@code vocabSize} entries (the model's vocabulary);
   *   <li>a {@code .json} with {@code "type": "char"}: a {@link CharTokenizer};
   *   <li>any other {@code .json}, or a folder holding {@code tokenizer.json}: a HF tokenizer;
   *   <li>a folder with {@code vocab.json}, {@code merges.txt} and {@code qwen3_tokenizer_skeleton.json} (the
   *       data folder's {@code tokenizers/qwen2}): the Qwen tokenizer, built into a temporary {@code tokenizer.json}.
   * </ul>
   */
  public static Tokenizer open(Path path, int vocabSize) throws IOException {
    String name = path.getFileName().toString();
    if (Files.isDirectory(path)) {
      if (Files.isRegularFile(path.resolve("tokenizer.json"))) return HfTokenizer.open(path.resolve("tokenizer.json"));
      if (Files.isRegularFile(path.resolve("qwen3_tokenizer_skeleton.json"))) {
        Path tmp = Files.createTempDirectory("resa-qwen-tokenizer");
        Path json = TokenizerJson.qwen(path, tmp.resolve("tokenizer.json"));
        try {
          return HfTokenizer.open(json);
        } finally {
          Files.deleteIfExists(json);
          Files.deleteIfExists(tmp);
        }
      }
      throw new IOException(path + ": folder holds neither tokenizer.json nor the Qwen BPE parts (vocab.json, merges.txt, skeleton)");
    }
    if (!Files.isRegularFile(path)) throw new IOException("tokenizer not found: " + path);
    if (name.endsWith(".bin")) return Llama2cTokenizer.load(path, vocabSize);
    if (name.endsWith(".json")) {
      JsonElement type;
      try {
        type = JsonParser.parseString(Files.readString(path)).getAsJsonObject().get("type");
      } catch (RuntimeException e) {
        throw new IOException(path + ": not a JSON object (" + e.getMessage() + ")", e);
      }
      boolean isChar = type != null && type.isJsonPrimitive() && type.getAsString().equals("char");
      return isChar ? CharTokenizer.load(path) : HfTokenizer.open(path);
    }
    throw new IOException(path + ": unknown tokenizer format (expected *.bin, tokenizer.json, a char tokenizer .json or a folder)");
  }

  /** A token-table lookup as {@link Tokenizer#tokenId} returns it: empty where the table had no entry (null). */
  static OptionalInt found(Integer id) {
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }
}
