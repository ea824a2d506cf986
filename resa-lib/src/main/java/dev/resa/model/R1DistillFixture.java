package dev.resa.model;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.io.AtomicFiles;
import dev.resa.io.SafeTensors;
import dev.resa.tokenizer.TokenizerJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A random-weight stand-in for {@code deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B}, written on demand (never
 * committed): R1-Distill's {@code config.json} key for key (hidden 1536, 12 heads over 2 KV heads, intermediate
 * 8960, vocab 151,936, qkv bias, untied head, bf16), bf16 safetensors shards with a
 * {@code model.safetensors.index.json}, and the Qwen2 BPE from the data folder's {@code tokenizers/qwen2} with
 * R1-Distill's added tokens ({@code <｜begin▁of▁sentence｜>} = 151646, {@code <｜User｜>}, {@code <｜Assistant｜>},
 * {@code <think>} = 151648, ...) and its chat template. The layer count is a parameter, so tests can use the real
 * width, vocabulary and head layout with 2 layers; 28 gives the full 1.78 B parameters (3.55 GB on disk).
 *
 * <p>Weights are uniform with the GPT-2 / HF initialiser's standard deviation (0.02; residual projections
 * 0.02 / sqrt(2 · layers)), norms are ones, biases small: uniform rather than normal because a Java Gaussian
 * costs ~25 ns a draw, over a minute for 1.78 B values, and the benches only need the shape and a sane scale.
 * Values are a pure function of (seed, tensor name, index), so the same call always writes the same bytes.
 */
public final class R1DistillFixture {
  /** R1-Distill-Qwen-1.5B's depth. */
  public static final int LAYERS = 28;
  /** A file {@link #write} puts last: its presence means the folder is complete and matches the parameters. */
  public static final String STAMP = "fixture.json";

  private R1DistillFixture() {}

  /** R1-Distill-Qwen-1.5B's {@code config.json} as published, with {@code layers} decoder layers. */
  public static JsonObject configJson(int layers) {
    JsonObject j = new JsonObject();
    JsonArray arch = new JsonArray();
    arch.add("Qwen2ForCausalLM");
    j.add("architectures", arch);
    j.addProperty("attention_dropout", 0.0);
    j.addProperty("bos_token_id", 151643);
    j.addProperty("eos_token_id", 151643);
    j.addProperty("hidden_act", "silu");
    j.addProperty("hidden_size", 1536);
    j.addProperty("initializer_range", 0.02);
    j.addProperty("intermediate_size", 8960);
    j.addProperty("max_position_embeddings", 131072);
    j.addProperty("max_window_layers", 21);
    j.addProperty("model_type", "qwen2");
    j.addProperty("num_attention_heads", 12);
    j.addProperty("num_hidden_layers", layers);
    j.addProperty("num_key_value_heads", 2);
    j.addProperty("rms_norm_eps", 1e-6);
    j.addProperty("rope_theta", 10000);
    j.addProperty("sliding_window", 4096);
    j.addProperty("tie_word_embeddings", false);
    j.addProperty("torch_dtype", "bfloat16");
    j.addProperty("transformers_version", "4.44.0");
    j.addProperty("use_cache", true);
    j.addProperty("use_mrope", false);
    j.addProperty("use_sliding_window", false);
    j.addProperty("vocab_size", 151936);
    return j;
  }

  /** The parsed {@link ModelConfig} of {@link #configJson}. */
  public static ModelConfig config(int layers) {
    return ModelConfig.fromHf(configJson(layers));
  }

  /**
   * Writes the fixture into {@code dir} unless a complete one with the same parameters is already there, and
   * returns {@code dir}. Shards hold at most {@code maxShardBytes} each (HF's layout: {@code model-0000i-of-0000n}).
   *
   * @param qwenTokenizerDir the data folder's {@code tokenizers/qwen2} (vocab.json, merges.txt, skeleton).
   */
  public static Path write(Path dir, int layers, long seed, long maxShardBytes, Path qwenTokenizerDir) throws IOException {
    if (layers <= 0) throw new IllegalArgumentException("layers must be positive, got " + layers);
    JsonObject stamp = new JsonObject();
    stamp.addProperty("layers", layers);
    stamp.addProperty("seed", seed);
    stamp.addProperty("max_shard_bytes", maxShardBytes);
    Path stampFile = dir.resolve(STAMP);
    if (Files.isRegularFile(stampFile) && JsonParser.parseString(Files.readString(stampFile)).equals(stamp)) return dir;
    Files.createDirectories(dir);
    Files.deleteIfExists(stampFile);
    ModelConfig c = config(layers);
    List<List<SafeTensors.Layout>> shards = new ArrayList<>();
    List<SafeTensors.Layout> current = new ArrayList<>();
    long bytes = 0, total = 0;
    for (String name : Weights.names(c)) {
      SafeTensors.Layout t = new SafeTensors.Layout(name, "BF16", Weights.expectedShape(c, name).getShape());
      if (!current.isEmpty() && bytes + t.bytes() > maxShardBytes) {
        shards.add(current);
        current = new ArrayList<>();
        bytes = 0;
      }
      current.add(t);
      bytes += t.bytes();
      total += t.bytes();
    }
    shards.add(current);
    Map<String, String> weightMap = new TreeMap<>();
    for (int i = 0; i < shards.size(); i++) {
      String file = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
      SafeTensors.write(dir.resolve(file), shards.get(i), Map.of("format", "pt"), (t, out) -> {
        byte[] block = new byte[2 << 20];
        long n = t.bytes() / 2;
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ t.name().hashCode());
        double std = std(t.name(), layers);
        double halfWidth = std * Math.sqrt(3); // uniform(-a, a) has standard deviation a / sqrt(3)
        for (long done = 0; done < n; ) {
          int count = (int) Math.min(block.length / 2, n - done);
          for (int k = 0; k < count; k++) {
            float v = std < 0 ? 1f : (float) (halfWidth * (2 * rng.nextDouble() - 1));
            int bits = Float.floatToRawIntBits(v);
            int bf = (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16; // round to nearest even
            block[2 * k] = (byte) bf;
            block[2 * k + 1] = (byte) (bf >>> 8);
          }
          out.write(block, 0, 2 * count);
          done += count;
        }
      });
      for (SafeTensors.Layout t : shards.get(i)) weightMap.put(t.name(), file);
    }
    JsonObject index = new JsonObject();
    JsonObject meta = new JsonObject();
    meta.addProperty("total_size", total);
    index.add("metadata", meta);
    index.add("weight_map", new GsonBuilder().create().toJsonTree(weightMap));
    var pretty = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
    AtomicFiles.writeString(dir.resolve(HfCheckpoint.INDEX), pretty.toJson(index));
    AtomicFiles.writeString(dir.resolve(HfCheckpoint.CONFIG), pretty.toJson(configJson(layers)));
    writeTokenizer(qwenTokenizerDir, dir);
    AtomicFiles.writeString(stampFile, pretty.toJson(stamp));
    return dir;
  }

  /** Standard deviation of a tensor's values, or -1 for norm weights (all ones). */
  private static double std(String name, int layers) {
    if (name.endsWith("norm.weight")) return -1;
    if (name.endsWith(".bias")) return 0.02;
    if (name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight")) return 0.02 / Math.sqrt(2.0 * layers);
    return 0.02;
  }

  /** R1-Distill-Qwen's added tokens, in id order from 151643 (its tokenizer.json). */
  private static final String[] ADDED = {
      "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>", "<｜begin▁of▁sentence｜>", "<|EOT|>", "<think>", "</think>",
      "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>",
      "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
      "<|repo_name|>", "<|file_sep|>"};

  /**
   * R1-Distill's chat template for system, user and assistant turns (its tool-call branches are left out), ending a
   * generation prompt with {@code <｜Assistant｜><think>\n} as the current HF template does; {@code Prompts.r1Chat}
   * renders the same string for one user turn.
   */
  static final String CHAT_TEMPLATE = "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
      + "{% set ns = namespace(system_prompt='') %}{% for message in messages %}{% if message['role'] == 'system' %}"
      + "{% set ns.system_prompt = message['content'] %}{% endif %}{% endfor %}{{ bos_token }}{{ ns.system_prompt }}"
      + "{% for message in messages %}{% if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}"
      + "{% elif message['role'] == 'assistant' %}{% set content = message['content'] %}"
      + "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
      + "{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}{% endif %}{% endfor %}"
      + "{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}";

  /** {@code tokenizer.json} (Qwen2 BPE + R1's added tokens) and {@code tokenizer_config.json} into {@code dir}. */
  static void writeTokenizer(Path qwenTokenizerDir, Path dir) throws IOException {
    Path json = TokenizerJson.qwen(qwenTokenizerDir, dir.resolve("tokenizer.json"));
    JsonObject root = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
    JsonArray added = new JsonArray();
    for (int i = 0; i < ADDED.length; i++) {
      JsonObject t = new JsonObject();
      t.addProperty("id", 151643 + i);
      t.addProperty("content", ADDED[i]);
      t.addProperty("single_word", false);
      t.addProperty("lstrip", false);
      t.addProperty("rstrip", false);
      t.addProperty("normalized", false);
      t.addProperty("special", !ADDED[i].contains("think>"));
      added.add(t);
    }
    root.add("added_tokens", added);
    var gson = new GsonBuilder().disableHtmlEscaping().create();
    AtomicFiles.writeString(json, gson.toJson(root));
    JsonObject cfg = new JsonObject();
    cfg.addProperty("add_bos_token", true);
    cfg.addProperty("add_eos_token", false);
    cfg.addProperty("bos_token", "<｜begin▁of▁sentence｜>");
    cfg.addProperty("eos_token", "<｜end▁of▁sentence｜>");
    cfg.addProperty("pad_token", "<｜end▁of▁sentence｜>");
    cfg.addProperty("model_max_length", 16384);
    cfg.addProperty("legacy", true);
    cfg.addProperty("tokenizer_class", "LlamaTokenizerFast");
    cfg.addProperty("chat_template", CHAT_TEMPLATE);
    AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(cfg));
  }
}
