package dev.resa.model;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shape of a Qwen2 / Llama decoder, as a Hugging Face {@code config.json} describes it.
 *
 * @param modelType {@code "qwen2"} or {@code "llama"}; decides the defaults of {@code qkvBias}.
 * @param hiddenSize residual-stream width d (R1-Distill-Qwen-1.5B: 1536).
 * @param numLayers number of decoder layers (R1-Distill: 28).
 * @param numHeads query heads (R1-Distill: 12).
 * @param numKvHeads key/value heads; fewer than {@code numHeads} means grouped-query attention (R1-Distill: 2).
 * @param headDim per-head width; {@code hiddenSize / numHeads} unless the config says otherwise (R1-Distill: 128).
 * @param intermediateSize SwiGLU hidden width (R1-Distill: 8960).
 * @param vocabSize rows of the embedding and the LM head (R1-Distill: 151936).
 * @param ropeTheta RoPE base frequency (R1-Distill: 10000).
 * @param rmsEps RMSNorm epsilon (Qwen2: 1e-6; llama2.c: 1e-5).
 * @param qkvBias whether q/k/v projections carry a bias (Qwen2: yes; Llama: no).
 * @param tieEmbeddings LM head shares the embedding matrix (R1-Distill: no; small Qwen2 and stories260K: yes).
 * @param maxPositions longest context RoPE tables are built for.
 * @param rope which RoPE pairing the checkpoint was trained with (HF: half rotation; llama2.c: adjacent pairs).
 * @param bosTokenId beginning-of-sequence id, or -1 when the model has none.
 * @param eosTokenId end-of-sequence id, or -1.
 */
public record ModelConfig(
    String modelType,
    int hiddenSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int intermediateSize,
    int vocabSize,
    double ropeTheta,
    double rmsEps,
    boolean qkvBias,
    boolean tieEmbeddings,
    int maxPositions,
    Rope rope,
    int bosTokenId,
    int eosTokenId) {

  /** How RoPE pairs the coordinates of a head. */
  public enum Rope {
    /** HF convention: coordinate i is rotated with coordinate i + headDim/2 ({@code rotate_half}). */
    HALF,
    /** llama2.c / Meta convention: coordinates 2i and 2i+1 form a pair. */
    INTERLEAVED
  }

  public ModelConfig {
    if (!modelType.equals("qwen2") && !modelType.equals("llama")) {
      throw new IllegalArgumentException("unknown model_type '" + modelType + "' (supported: qwen2, llama)");
    }
    require(hiddenSize > 0, "hidden_size must be positive");
    require(numLayers > 0, "num_hidden_layers must be positive");
    require(numHeads > 0 && numKvHeads > 0, "attention head counts must be positive");
    require(numHeads % numKvHeads == 0, "num_attention_heads (" + numHeads + ") must be a multiple of num_key_value_heads (" + numKvHeads + ")");
    require(headDim > 0 && headDim % 2 == 0, "head_dim must be positive and even for RoPE, got " + headDim);
    require(intermediateSize > 0 && vocabSize > 0 && maxPositions > 0, "sizes must be positive");
  }

  private static void require(boolean ok, String message) {
    if (!ok) throw new IllegalArgumentException(message);
  }

  /** Query heads per key/value head. */
  public int groupSize() {
    return numHeads / numKvHeads;
  }

  /** A small Qwen2-architecture config for tests, tutorials and the miniature. */
  public static ModelConfig tinyQwen2(int vocab, int hidden, int layers, int heads, int kvHeads, int intermediate, int maxPositions) {
    return new ModelConfig("qwen2", hidden, layers, heads, kvHeads, hidden / heads, intermediate, vocab,
        10000.0, 1e-6, true, true, maxPositions, Rope.HALF, -1, -1);
  }

  public ModelConfig withTokens(int bos, int eos) {
    return new ModelConfig(modelType, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize, vocabSize,
        ropeTheta, rmsEps, qkvBias, tieEmbeddings, maxPositions, rope, bos, eos);
  }

  /** Reads a HF {@code config.json}; errors name the file and the key. */
  public static ModelConfig readHf(Path configJson) throws IOException {
    if (!Files.isRegularFile(configJson)) throw new IOException("config.json not found: " + configJson);
    JsonObject j;
    try {
      j = JsonParser.parseString(Files.readString(configJson)).getAsJsonObject();
    } catch (RuntimeException e) {
      throw new IOException(configJson + ": not a JSON object: " + e.getMessage(), e);
    }
    try {
      return fromHf(j);
    } catch (IllegalArgumentException e) {
      throw new IOException(configJson + ": " + e.getMessage(), e);
    }
  }

  static ModelConfig fromHf(JsonObject j) {
    String type = string(j, "model_type", null);
    if (type == null) throw new IllegalArgumentException("missing key 'model_type'");
    if (!type.equals("qwen2") && !type.equals("llama")) {
      throw new IllegalArgumentException("unknown model_type '" + type + "' (supported: qwen2, llama)");
    }
    int hidden = integer(j, "hidden_size");
    int heads = integer(j, "num_attention_heads");
    int kv = j.has("num_key_value_heads") && !j.get("num_key_value_heads").isJsonNull() ? integer(j, "num_key_value_heads") : heads;
    int headDim = j.has("head_dim") && !j.get("head_dim").isJsonNull() ? integer(j, "head_dim") : hidden / heads;
    boolean bias = type.equals("qwen2") || (j.has("attention_bias") && j.get("attention_bias").getAsBoolean());
    return new ModelConfig(
        type, hidden, integer(j, "num_hidden_layers"), heads, kv, headDim, integer(j, "intermediate_size"),
        integer(j, "vocab_size"),
        j.has("rope_theta") ? j.get("rope_theta").getAsDouble() : 10000.0,
        j.has("rms_norm_eps") ? j.get("rms_norm_eps").getAsDouble() : 1e-6,
        bias,
        j.has("tie_word_embeddings") && j.get("tie_word_embeddings").getAsBoolean(),
        j.has("max_position_embeddings") ? integer(j, "max_position_embeddings") : 2048,
        "interleaved".equals(string(j, "resa_rope", "half")) ? Rope.INTERLEAVED : Rope.HALF,
        firstInt(j.get("bos_token_id")),
        firstInt(j.get("eos_token_id")));
  }

  private static int firstInt(JsonElement e) {
    if (e == null || e.isJsonNull()) return -1;
    if (e.isJsonArray()) return e.getAsJsonArray().isEmpty() ? -1 : e.getAsJsonArray().get(0).getAsInt();
    return e.getAsInt();
  }

  private static int integer(JsonObject j, String key) {
    if (!j.has(key) || j.get(key).isJsonNull()) throw new IllegalArgumentException("missing key '" + key + "'");
    try {
      return j.get(key).getAsInt();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("key '" + key + "' is not an integer: " + j.get(key));
    }
  }

  private static String string(JsonObject j, String key, String fallback) {
    return j.has(key) && !j.get(key).isJsonNull() ? j.get(key).getAsString() : fallback;
  }

  /** The HF {@code config.json} for this shape, so Python tooling can open saved models. */
  public String toHfJson() {
    JsonObject j = new JsonObject();
    j.addProperty("model_type", modelType);
    j.add("architectures", new Gson().toJsonTree(new String[] {modelType.equals("qwen2") ? "Qwen2ForCausalLM" : "LlamaForCausalLM"}));
    j.addProperty("hidden_size", hiddenSize);
    j.addProperty("num_hidden_layers", numLayers);
    j.addProperty("num_attention_heads", numHeads);
    j.addProperty("num_key_value_heads", numKvHeads);
    j.addProperty("head_dim", headDim);
    j.addProperty("intermediate_size", intermediateSize);
    j.addProperty("vocab_size", vocabSize);
    j.addProperty("rope_theta", ropeTheta);
    j.addProperty("rms_norm_eps", rmsEps);
    j.addProperty("tie_word_embeddings", tieEmbeddings);
    j.addProperty("max_position_embeddings", maxPositions);
    j.addProperty("hidden_act", "silu");
    j.addProperty("torch_dtype", "float32");
    if (modelType.equals("llama")) j.addProperty("attention_bias", qkvBias);
    if (bosTokenId >= 0) j.addProperty("bos_token_id", bosTokenId);
    if (eosTokenId >= 0) j.addProperty("eos_token_id", eosTokenId);
    if (rope == Rope.INTERLEAVED) j.addProperty("resa_rope", "interleaved");
    return new GsonBuilder().setPrettyPrinting().create().toJson(j);
  }

  /** Parameter count (embedding, layers, final norm, untied head). */
  public long parameterCount() {
    long d = hiddenSize, q = (long) numHeads * headDim, kv = (long) numKvHeads * headDim;
    long attn = d * q + 2 * d * kv + q * d + (qkvBias ? q + 2 * kv : 0);
    long mlp = 3L * d * intermediateSize;
    long layer = attn + mlp + 2 * d;
    return vocabSize * d * (tieEmbeddings ? 1 : 2) + numLayers * layer + d;
  }

  /** Forward FLOPs per token at context length {@code t} (2 per multiply-add; attention scores included). */
  public double forwardFlopsPerToken(int t) {
    double d = hiddenSize, q = (double) numHeads * headDim, kv = (double) numKvHeads * headDim;
    double perLayer = 2 * (d * q + 2 * d * kv + q * d + 3 * d * intermediateSize) + 4.0 * t * q / 2; // causal: half the scores
    return numLayers * perLayer + 2 * d * vocabSize;
  }
}
