package dev.resa.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.io.AtomicFiles;
import dev.resa.io.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * sparsify's on-disk layout, which Resa and EleutherAI's released SAEs use: one folder per hook point
 * ({@code <out>/layers.12/}) holding {@code cfg.json} (the {@code SparseCoderConfig} fields plus {@code d_in}) and
 * {@code sae.safetensors} with {@code encoder.weight} [n, d], {@code encoder.bias} [n], {@code W_dec} [n, d],
 * {@code b_dec} [d]. bf16 files are widened to fp32 on load.
 */
public final class SparsifyFormat {
  public static final String CFG = "cfg.json";
  public static final String WEIGHTS = "sae.safetensors";

  private SparsifyFormat() {}

  /** Reads {@code dir/cfg.json}, validating every field we rely on. */
  public static SparseCoderConfig readConfig(Path dir) throws IOException {
    Path file = dir.resolve(CFG);
    if (!Files.isRegularFile(file)) throw new IOException("no " + CFG + " in " + dir + " (expected sparsify's layout)");
    JsonObject o;
    try {
      o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    } catch (RuntimeException e) {
      throw new IOException(file + ": not a JSON object: " + e.getMessage(), e);
    }
    String activation = o.has("activation") ? o.get("activation").getAsString() : "topk";
    if (!activation.equals("topk")) throw new IOException(file + ": activation '" + activation + "' is not supported (only topk)");
    for (String flag : new String[] {"skip_connection", "transcode"}) {
      if (o.has(flag) && o.get(flag).getAsBoolean()) throw new IOException(file + ": " + flag + "=true is not supported");
    }
    int dIn = requireInt(o, "d_in", file);
    int k = requireInt(o, "k", file);
    int n = o.has("num_latents") ? o.get("num_latents").getAsInt() : 0;
    if (n == 0) {
      if (!o.has("expansion_factor")) {
        throw new IOException(file + ": missing field 'num_latents' (or 'expansion_factor' to derive it)");
      }
      n = dIn * o.get("expansion_factor").getAsInt();
    }
    boolean normalize = !o.has("normalize_decoder") || o.get("normalize_decoder").getAsBoolean();
    try {
      return new SparseCoderConfig(dIn, n, k, normalize);
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
  }

  private static int requireInt(JsonObject o, String key, Path file) throws IOException {
    JsonElement e = o.get(key);
    if (e == null || e.isJsonNull()) throw new IOException(file + ": missing field '" + key + "'");
    try {
      return e.getAsInt();
    } catch (RuntimeException ex) {
      throw new IOException(file + ": field '" + key + "' is not an integer: " + e);
    }
  }

  /** Loads one SAE folder into a sub-manager of {@code manager}. */
  public static SparseCoder read(Path dir, NDManager manager) throws IOException {
    SparseCoderConfig cfg = readConfig(dir);
    Path file = dir.resolve(WEIGHTS);
    if (!Files.isRegularFile(file)) throw new IOException("no " + WEIGHTS + " in " + dir);
    try (SafeTensors.Reader r = SafeTensors.open(file); NDManager tmp = manager.newSubManager()) {
      long n = cfg.numLatents();
      long d = cfg.dIn();
      NDArray wEnc = tensor(r, tmp, "encoder.weight", new Shape(n, d));
      NDArray bEnc = tensor(r, tmp, "encoder.bias", new Shape(n));
      NDArray wDec = tensor(r, tmp, "W_dec", new Shape(n, d));
      NDArray bDec = tensor(r, tmp, "b_dec", new Shape(d));
      return SparseCoder.of(cfg, manager, wEnc, bEnc, wDec, bDec);
    }
  }

  private static NDArray tensor(SafeTensors.Reader r, NDManager m, String name, Shape expected) throws IOException {
    if (!r.contains(name)) throw new IOException(r.path() + ": missing tensor '" + name + "'");
    Shape got = r.entry(name).djlShape();
    if (!got.equals(expected)) {
      throw new IOException(r.path() + ": tensor '" + name + "' has shape " + got + " but cfg.json implies " + expected);
    }
    return r.read(m, name);
  }

  /**
   * Checks that an SAE fits {@code model} at {@code hook}: the point must exist and {@code d_in} must equal the
   * width there (the hidden size).
   */
  public static void requireFits(SparseCoderConfig cfg, dev.resa.model.ModelConfig model, String hook) {
    dev.resa.model.Hooks.layerOf(hook, model);
    if (cfg.dIn() != model.hiddenSize()) {
      throw new IllegalArgumentException("SAE d_in " + cfg.dIn() + " does not match the model's hidden size " + model.hiddenSize()
          + " at hook point '" + hook + "'");
    }
  }

  /** Every SAE under {@code out} (one sub-folder per hook point that holds a cfg.json), keyed by folder name. */
  public static Map<String, SparseCoder> readAll(Path out, NDManager manager) throws IOException {
    Map<String, SparseCoder> saes = new TreeMap<>();
    try (Stream<Path> dirs = Files.list(out)) {
      for (Path d : (Iterable<Path>) dirs.sorted()::iterator) {
        if (Files.isRegularFile(d.resolve(CFG))) saes.put(d.getFileName().toString(), read(d, manager));
      }
    }
    if (saes.isEmpty()) throw new IOException("no SAE folders (with " + CFG + ") under " + out);
    return saes;
  }

  /** The cfg.json text sparsify writes for {@code cfg}. */
  public static String configJson(SparseCoderConfig cfg) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("activation", "topk");
    o.put("expansion_factor", Math.max(1, cfg.numLatents() / cfg.dIn()));
    o.put("normalize_decoder", cfg.normalizeDecoder());
    o.put("num_latents", cfg.numLatents());
    o.put("k", cfg.k());
    o.put("multi_topk", false);
    o.put("skip_connection", false);
    o.put("transcode", false);
    o.put("d_in", cfg.dIn());
    Gson gson = new GsonBuilder().setPrettyPrinting().create();
    return gson.toJson(o);
  }

  /** Writes {@code dir/cfg.json} and {@code dir/sae.safetensors} (fp32), each atomically. */
  public static void write(Path dir, SparseCoder sae) throws IOException {
    write(dir, sae.config(), sae.wEnc(), sae.bEnc(), sae.wDec(), sae.bDec(), SafeTensors.FloatFormat.F32);
  }

  /** Writes explicit tensors (e.g. the optimiser's averaged iterate) in sparsify's layout. */
  public static void write(Path dir, SparseCoderConfig cfg, NDArray wEnc, NDArray bEnc, NDArray wDec, NDArray bDec,
      SafeTensors.FloatFormat format) throws IOException {
    Files.createDirectories(dir);
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    tensors.put("encoder.weight", wEnc);
    tensors.put("encoder.bias", bEnc);
    tensors.put("W_dec", wDec);
    tensors.put("b_dec", bDec);
    SafeTensors.write(dir.resolve(WEIGHTS), tensors, Map.of(), format);
    AtomicFiles.writeString(dir.resolve(CFG), configJson(cfg));
  }
}
