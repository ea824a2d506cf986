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
 * <p>Built by name: {@code ModelConfig.builder(Architecture.QWEN2).hiddenSize(1536)...build()}, or read from a
 * {@code config.json} with {@link #readHf}.
 *
 * @param architecture the HF {@code model_type} ({@code qwen2} or {@code llama}); decides the default of {@code qkvBias}.
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
    Architecture architecture,
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

  /** The decoder families this library runs, by their HF {@code model_type}. */
  public enum Architecture {
    /** Qwen2 (R1-Distill-Qwen, the miniature's models): q/k/v carry a bias. */
    QWEN2("qwen2", "Qwen2ForCausalLM", true),
    /** Llama (llama2.c's stories models): no attention bias unless {@code attention_bias} says so. */
    LLAMA("llama", "LlamaForCausalLM", false);

    /** The {@code model_type} value of {@code config.json}. */
    public final String hfType;
    /** The {@code architectures} entry transformers loads it with. */
    public final String hfClass;
    /** Whether q/k/v projections carry a bias when the config does not say. */
    public final boolean defaultQkvBias;

    Architecture(String hfType, String hfClass, boolean defaultQkvBias) {
      this.hfType = hfType;
      this.hfClass = hfClass;
      this.defaultQkvBias = defaultQkvBias;
    }

    /** The architecture of a {@code model_type} value; an unknown one is an error naming the supported ones. */
    public static Architecture fromHf(String modelType) {
      for (Architecture a : values()) {
        if (a.hfType.equals(modelType)) return a;
      }
      throw new IllegalArgumentException("unknown model_type '" + modelType + "' (supported: qwen2, llama)");
    }
  }

  /** How RoPE pairs the coordinates of a head. */
  public enum Rope {
    /** HF convention: coordinate i is rotated with coordinate i + headDim/2 ({@code rotate_half}). */
    HALF,
    /** llama2.c / Meta convention: coordinates 2i and 2i+1 form a pair. */
    INTERLEAVED
  }

  public ModelConfig {
    require(architecture != null && rope != null, "architecture and rope must be set");
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

  /** A small Qwen2-architecture config for tests, tutorials and the miniature (tied embeddings, q/k/v bias). */
  public static ModelConfig tinyQwen2(int vocab, int hidden, int layers, int heads, int kvHeads, int intermediate, int maxPositions) {
    return builder(Architecture.QWEN2).vocabSize(vocab).hiddenSize(hidden).numLayers(layers).numHeads(heads).numKvHeads(kvHeads)
        .intermediateSize(intermediate).maxPositions(maxPositions).tieEmbeddings(true).build();
  }

  /** This config with other special-token ids. */
  public ModelConfig withTokens(int bos, int eos) {
    return toBuilder().bosTokenId(bos).eosTokenId(eos).build();
  }

  /** This config with another RoPE pairing. */
  public ModelConfig withRope(Rope r) {
    return toBuilder().rope(r).build();
  }

  /** A builder with {@code architecture}'s defaults; sizes must be set. */
  public static Builder builder(Architecture architecture) {
    return new Builder(architecture);
  }

  /** A builder holding every field of this config. */
  public Builder toBuilder() {
    return builder(architecture).hiddenSize(hiddenSize).numLayers(numLayers).numHeads(numHeads).numKvHeads(numKvHeads)
        .headDim(headDim).intermediateSize(intermediateSize).vocabSize(vocabSize).ropeTheta(ropeTheta).rmsEps(rmsEps)
        .qkvBias(qkvBias).tieEmbeddings(tieEmbeddings).maxPositions(maxPositions).rope(rope)
        .bosTokenId(bosTokenId).eosTokenId(eosTokenId);
  }

  /** Named construction of a {@link ModelConfig}; each setter documents its field on the record. */
  public static final class Builder {
    private final Architecture architecture;
    private int hiddenSize, numLayers, numHeads, intermediateSize, vocabSize;
    private int numKvHeads = -1; // unset: numHeads (no grouping)
    private int headDim = -1; // unset: hiddenSize / numHeads
    private double ropeTheta = 10000.0;
    private double rmsEps = 1e-6;
    private boolean qkvBias;
    private boolean tieEmbeddings;
    private int maxPositions = 2048;
    private Rope rope = Rope.HALF;
    private int bosTokenId = -1, eosTokenId = -1;

    private Builder(Architecture architecture) {
      this.architecture = architecture;
      this.qkvBias = architecture.defaultQkvBias;
    }

    public Builder hiddenSize(int v) { hiddenSize = v; return this; }
    public Builder numLayers(int v) { numLayers = v; return this; }
    public Builder numHeads(int v) { numHeads = v; return this; }
    public Builder numKvHeads(int v) { numKvHeads = v; return this; }
    public Builder headDim(int v) { headDim = v; return this; }
    public Builder intermediateSize(int v) { intermediateSize = v; return this; }
    public Builder vocabSize(int v) { vocabSize = v; return this; }
    public Builder ropeTheta(double v) { ropeTheta = v; return this; }
    public Builder rmsEps(double v) { rmsEps = v; return this; }
    public Builder qkvBias(boolean v) { qkvBias = v; return this; }
    public Builder tieEmbeddings(boolean v) { tieEmbeddings = v; return this; }
    public Builder maxPositions(int v) { maxPositions = v; return this; }
    public Builder rope(Rope v) { rope = v; return this; }
    public Builder bosTokenId(int v) { bosTokenId = v; return this; }
    public Builder eosTokenId(int v) { eosTokenId = v; return this; }

    /** The config; sizes are checked by the record (the message names the HF key). */
    public ModelConfig build() {
      int kv = numKvHeads < 0 ? numHeads : numKvHeads;
      int hd = headDim < 0 && numHeads > 0 ? hiddenSize / numHeads : headDim;
      return new ModelConfig(architecture, hiddenSize, numLayers, numHeads, kv, hd, intermediateSize, vocabSize, ropeTheta, rmsEps,
          qkvBias, tieEmbeddings, maxPositions, rope, bosTokenId, eosTokenId);
    }
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
    Architecture arch = Architecture.fromHf(type);
    Builder b = builder(arch)
        .hiddenSize(integer(j, "hidden_size"))
        .numLayers(integer(j, "num_hidden_layers"))
        .numHeads(integer(j, "num_attention_heads"))
        .intermediateSize(integer(j, "intermediate_size"))
        .vocabSize(integer(j, "vocab_size"))
        .tieEmbeddings(j.has("tie_word_embeddings") && j.get("tie_word_embeddings").getAsBoolean())
        .rope("interleaved".equals(string(j, "resa_rope", "half")) ? Rope.INTERLEAVED : Rope.HALF)
        .bosTokenId(firstInt(j.get("bos_token_id")))
        .eosTokenId(firstInt(j.get("eos_token_id")));
    if (present(j, "num_key_value_heads")) b.numKvHeads(integer(j, "num_key_value_heads"));
    if (present(j, "head_dim")) b.headDim(integer(j, "head_dim"));
    if (present(j, "rope_theta")) b.ropeTheta(j.get("rope_theta").getAsDouble());
    if (present(j, "rms_norm_eps")) b.rmsEps(j.get("rms_norm_eps").getAsDouble());
    if (present(j, "max_position_embeddings")) b.maxPositions(integer(j, "max_position_embeddings"));
    if (!arch.defaultQkvBias && present(j, "attention_bias")) b.qkvBias(j.get("attention_bias").getAsBoolean());
    return b.build();
  }

  private static boolean present(JsonObject j, String key) {
    return j.has(key) && !j.get(key).isJsonNull();
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
    j.addProperty("model_type", architecture.hfType);
    j.add("architectures", new Gson().toJsonTree(new String[] {architecture.hfClass}));
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
    if (!architecture.defaultQkvBias) j.addProperty("attention_bias", qkvBias);
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
