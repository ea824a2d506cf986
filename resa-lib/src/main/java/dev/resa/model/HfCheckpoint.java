package dev.resa.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.io.AtomicFiles;
import dev.resa.io.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Hugging Face model folders: {@code config.json} plus {@code model.safetensors}, or shards listed in
 * {@code model.safetensors.index.json}.
 *
 * <p>Loading validates before trusting: every tensor the config implies must be present with exactly the shape
 * the config implies, and any tensor we do not know is an error (an unknown tensor means an architecture feature,
 * such as Qwen3's q/k norms, that this decoder would silently skip). Two extras are tolerated because they carry
 * no information: {@code lm_head.weight} when embeddings are tied, and old rotary {@code inv_freq} buffers.
 * BF16 / F16 tensors are widened to F32 in Java (a BF16 NDArray would abort the JVM).
 *
 * <p>Saving writes the same layout (F32 by default, sharded above a size) with every file written atomically,
 * the index and config last, so a folder that a reader sees is always complete.
 */
public final class HfCheckpoint {
  public static final String CONFIG = "config.json";
  public static final String SINGLE = "model.safetensors";
  public static final String INDEX = "model.safetensors.index.json";
  private static final List<String> FLOATS = List.of("F32", "BF16", "F16", "F64");

  private HfCheckpoint() {}

  /** Loads {@code dir} as float32 into a sub-manager of {@code manager} (closing the model frees it). */
  public static DecoderLM load(Path dir, NDManager manager) throws IOException {
    return load(dir, manager, DataType.FLOAT32);
  }

  /** Loads {@code dir} with weights cast to {@code dtype} (FLOAT32, or FLOAT64 for gradient checks). */
  public static DecoderLM load(Path dir, NDManager manager, DataType dtype) throws IOException {
    if (dtype != DataType.FLOAT32 && dtype != DataType.FLOAT64) {
      throw new IllegalArgumentException("load dtype must be FLOAT32 or FLOAT64, got " + dtype + " (half-precision NDArrays are not supported on CPU)");
    }
    if (!Files.isDirectory(dir)) throw new IOException("model folder not found: " + dir);
    ModelConfig config = ModelConfig.readHf(dir.resolve(CONFIG));
    Map<String, Path> fileOf = tensorFiles(dir);
    Set<String> wanted = new HashSet<>(Weights.names(config));
    for (var e : fileOf.entrySet()) {
      String name = e.getKey();
      if (!wanted.contains(name) && !ignorable(name, config)) {
        throw new IOException(e.getValue() + ": unexpected tensor '" + name + "' for a " + config.architecture().hfType
            + " model with " + config.numLayers() + " layers (an architecture feature this decoder does not implement?)");
      }
    }
    Map<Path, SafeTensors.Reader> readers = new LinkedHashMap<>();
    Weights w = null;
    try {
      // Validate every header entry first, so a bad checkpoint fails in milliseconds, before any data is read.
      for (String name : Weights.names(config)) {
        Path file = fileOf.get(name);
        if (file == null) {
          throw new IOException(describe(dir, fileOf) + ": missing tensor '" + name + "' (required by " + dir.resolve(CONFIG) + ")");
        }
        SafeTensors.Reader r = readers.get(file);
        if (r == null) {
          r = SafeTensors.open(file);
          readers.put(file, r);
        }
        SafeTensors.Entry entry = r.entry(name);
        Shape want = Weights.expectedShape(config, name);
        if (!entry.djlShape().equals(want)) {
          throw new IOException(file + ": tensor '" + name + "' has shape " + Arrays.toString(entry.shape())
              + " but " + dir.resolve(CONFIG) + " implies " + Arrays.toString(want.getShape()));
        }
        if (!FLOATS.contains(entry.dtype())) {
          throw new IOException(file + ": tensor '" + name + "' has dtype " + entry.dtype() + ", expected one of " + FLOATS);
        }
      }
      w = new Weights(manager.newSubManager());
      for (String name : Weights.names(config)) {
        NDArray a = readers.get(fileOf.get(name)).read(w.manager(), name); // F32, widened in Java
        w.put(name, dtype == DataType.FLOAT32 ? a : a.toType(dtype, false));
      }
    } catch (IOException | RuntimeException e) {
      if (w != null) w.close();
      throw e;
    } finally {
      for (SafeTensors.Reader r : readers.values()) r.close();
    }
    // The tensors were widened out of memory mappings that are now unreachable; Java unmaps a file only when its
    // buffers are collected, so until then the checkpoint's pages (half the float32 size for bf16) count in RSS.
    // One collection of a near-empty heap unmaps them now instead of whenever the heap next fills.
    System.gc();
    return new DecoderLM(config, w);
  }

  /** Harmless extras: a duplicate head in a tied checkpoint, and RoPE frequency buffers that we recompute. */
  private static boolean ignorable(String name, ModelConfig c) {
    return (c.tieEmbeddings() && name.equals("lm_head.weight")) || name.endsWith("rotary_emb.inv_freq");
  }

  /** Tensor name to the file that holds it, from the index when sharded. */
  private static Map<String, Path> tensorFiles(Path dir) throws IOException {
    Map<String, Path> out = new LinkedHashMap<>();
    Path index = dir.resolve(INDEX);
    if (Files.isRegularFile(index)) {
      JsonObject map;
      try {
        map = JsonParser.parseString(Files.readString(index)).getAsJsonObject().getAsJsonObject("weight_map");
      } catch (RuntimeException e) {
        throw new IOException(index + ": not a safetensors index (" + e.getMessage() + ")", e);
      }
      if (map == null) throw new IOException(index + ": missing key 'weight_map'");
      for (Map.Entry<String, JsonElement> e : map.entrySet()) {
        Path shard = dir.resolve(e.getValue().getAsString());
        if (!Files.isRegularFile(shard)) {
          throw new IOException(index + ": tensor '" + e.getKey() + "' maps to " + shard.getFileName() + ", which does not exist");
        }
        out.put(e.getKey(), shard);
      }
      return out;
    }
    Path single = dir.resolve(SINGLE);
    if (!Files.isRegularFile(single)) throw new IOException(dir + ": neither " + SINGLE + " nor " + INDEX + " found");
    try (SafeTensors.Reader r = SafeTensors.open(single)) {
      for (String name : r.entries().keySet()) out.put(name, single);
    }
    return out;
  }

  private static String describe(Path dir, Map<String, Path> fileOf) {
    Set<Path> files = new HashSet<>(fileOf.values());
    return files.size() == 1 ? files.iterator().next().toString() : dir.resolve(INDEX).toString();
  }

  /** Saves float32 in one file. */
  public static void save(DecoderLM model, Path dir) throws IOException {
    save(model.config(), model.weights(), dir, Long.MAX_VALUE, SafeTensors.FloatFormat.F32);
  }

  /**
   * Saves {@code weights} as a HF folder. Above {@code maxShardBytes} the tensors are split, in HF order, into
   * {@code model-0000i-of-0000n.safetensors} files listed by {@code model.safetensors.index.json}. A tied head is
   * not written (HF drops it too). Stale files of the other layout are removed after the new one is complete.
   *
   * <p>A model with adjacent-pair RoPE (llama2.c) is written the way HF's llama conversion does it: q/k rows are
   * permuted per head so that pair (2i, 2i+1) becomes (i, i + E/2), and the config says half rotation. The folder
   * is then a plain HF checkpoint that any HF-convention implementation runs unchanged.
   */
  public static void save(ModelConfig config, Weights weights, Path dir, long maxShardBytes, SafeTensors.FloatFormat format)
      throws IOException {
    try (NDManager scope = weights.stepScope()) { // permuted copies live here and are freed after writing
      boolean permute = config.rope() == ModelConfig.Rope.INTERLEAVED;
      ModelConfig out = permute ? config.withRope(ModelConfig.Rope.HALF) : config;
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      for (String name : Weights.names(config)) {
        NDArray a = weights.get(name);
        if (permute && name.contains(".q_proj.")) a = toHalfPairs(a, config.numHeads(), config.headDim());
        if (permute && name.contains(".k_proj.")) a = toHalfPairs(a, config.numKvHeads(), config.headDim());
        tensors.put(name, a);
      }
      write(out, tensors, dir, maxShardBytes, format);
    }
  }

  /** Reorders rows [heads*E, ...] from adjacent pairs to half rotation: new row h*E + j*E/2 + i = old h*E + 2i + j. */
  static NDArray toHalfPairs(NDArray w, int heads, int headDim) {
    Shape s = w.getShape();
    long cols = s.dimension() == 2 ? s.get(1) : 1;
    return w.reshape(heads, headDim / 2, 2, cols).transpose(0, 2, 1, 3).reshape(s); // [H, 2, E/2, cols]
  }

  private static void write(ModelConfig config, Map<String, NDArray> tensors, Path dir, long maxShardBytes,
      SafeTensors.FloatFormat format) throws IOException {
    Files.createDirectories(dir);
    int width = format == SafeTensors.FloatFormat.BF16 ? 2 : 4;
    List<Map<String, NDArray>> shards = new ArrayList<>();
    Map<String, NDArray> current = new LinkedHashMap<>();
    long bytes = 0;
    long total = 0;
    for (var e : tensors.entrySet()) {
      long size = e.getValue().size() * width;
      if (!current.isEmpty() && bytes + size > maxShardBytes) {
        shards.add(current);
        current = new LinkedHashMap<>();
        bytes = 0;
      }
      current.put(e.getKey(), e.getValue());
      bytes += size;
      total += size;
    }
    shards.add(current);
    Map<String, String> meta = Map.of("format", "pt");
    if (shards.size() == 1) {
      SafeTensors.write(dir.resolve(SINGLE), shards.get(0), meta, format);
      Files.deleteIfExists(dir.resolve(INDEX));
    } else {
      Map<String, String> weightMap = new TreeMap<>();
      for (int i = 0; i < shards.size(); i++) {
        String file = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
        SafeTensors.write(dir.resolve(file), shards.get(i), meta, format);
        for (String name : shards.get(i).keySet()) weightMap.put(name, file);
      }
      JsonObject index = new JsonObject();
      JsonObject metadata = new JsonObject();
      metadata.addProperty("total_size", total);
      index.add("metadata", metadata);
      index.add("weight_map", new GsonBuilder().create().toJsonTree(weightMap));
      AtomicFiles.writeString(dir.resolve(INDEX), new GsonBuilder().setPrettyPrinting().create().toJson(index));
      Files.deleteIfExists(dir.resolve(SINGLE));
    }
    JsonObject json = JsonParser.parseString(config.toHfJson()).getAsJsonObject();
    json.addProperty("torch_dtype", format == SafeTensors.FloatFormat.BF16 ? "bfloat16" : "float32");
    AtomicFiles.writeString(dir.resolve(CONFIG), new GsonBuilder().setPrettyPrinting().create().toJson(json));
  }
}
