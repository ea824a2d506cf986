package dev.resa.tuning;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.io.AtomicFiles;
import dev.resa.io.SafeTensors;
import dev.resa.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * PEFT's on-disk LoRA layout, so adapters move between this library and Python:
 *
 * <pre>
 *   adapter_config.json         {"peft_type": "LORA", "r": 32, "lora_alpha": 128, "target_modules": [...], ...}
 *   adapter_model.safetensors   base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight  [r, in]
 *                               base_model.model.model.layers.N.self_attn.q_proj.lora_B.weight  [out, r]
 * </pre>
 */
public final class PeftFormat {
  public static final String CONFIG = "adapter_config.json";
  public static final String WEIGHTS = "adapter_model.safetensors";
  static final String PREFIX = "base_model.model.";
  private static final Pattern KEY = Pattern.compile(
      "base_model\\.model\\.(model\\.layers\\.(\\d+)\\.(self_attn|mlp)\\.([a-z_]+))\\.lora_([AB])\\.weight");
  private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\..*");

  private PeftFormat() {}

  /** Layer index of an HF module path ({@code model.layers.3.mlp.up_proj} gives 3), or -1. */
  static int layerOf(String module) {
    Matcher m = LAYER.matcher(module);
    return m.matches() ? Integer.parseInt(m.group(1)) : -1;
  }

  /** Writes both files into {@code dir} atomically: a temp folder next to it, then a rename. */
  static void save(Lora lora, Path dir, String baseModelName) throws IOException {
    Path target = dir.toAbsolutePath();
    Files.createDirectories(target.getParent());
    Path tmp = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".tmp");
    try {
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      for (var e : lora.modules().entrySet()) {
        tensors.put(PREFIX + e.getKey() + ".lora_A.weight", e.getValue().a());
        tensors.put(PREFIX + e.getKey() + ".lora_B.weight", e.getValue().b());
      }
      SafeTensors.write(tmp.resolve(WEIGHTS), tensors, Map.of("format", "pt"), SafeTensors.FloatFormat.F32);
      AtomicFiles.writeString(tmp.resolve(CONFIG), configJson(lora.config(), baseModelName));
      replaceDir(tmp, target);
    } finally {
      deleteTree(tmp);
    }
  }

  static String configJson(LoraConfig c, String baseModelName) {
    JsonObject j = new JsonObject();
    j.addProperty("peft_type", "LORA");
    j.addProperty("task_type", "CAUSAL_LM");
    j.addProperty("base_model_name_or_path", baseModelName == null ? "" : baseModelName);
    j.addProperty("r", c.r());
    j.addProperty("lora_alpha", c.alpha());
    j.addProperty("lora_dropout", c.dropout());
    JsonArray targets = new JsonArray();
    c.targets().forEach(targets::add);
    j.add("target_modules", targets);
    j.addProperty("bias", "none");
    j.addProperty("fan_in_fan_out", false);
    j.addProperty("inference_mode", true);
    j.addProperty("init_lora_weights", true);
    j.addProperty("use_rslora", false);
    j.add("modules_to_save", JsonNull.INSTANCE);
    if (c.layers() != null) {
      JsonArray layers = new JsonArray();
      c.layers().stream().sorted().forEach(layers::add);
      j.add("layers_to_transform", layers);
    } else {
      j.add("layers_to_transform", JsonNull.INSTANCE);
    }
    return new GsonBuilder().setPrettyPrinting().create().toJson(j);
  }

  static Lora load(Path dir, ModelConfig model, NDManager parent) throws IOException {
    Path cfgFile = dir.resolve(CONFIG), weightsFile = dir.resolve(WEIGHTS);
    if (!Files.isRegularFile(cfgFile)) throw new IOException("PEFT adapter config not found: " + cfgFile);
    if (!Files.isRegularFile(weightsFile)) throw new IOException("PEFT adapter weights not found: " + weightsFile);
    LoraConfig config = readConfig(cfgFile);
    NDManager m = parent.newSubManager();
    try (SafeTensors.Reader reader = SafeTensors.open(weightsFile)) {
      Map<String, NDArray[]> found = new TreeMap<>(Comparator.comparingInt(PeftFormat::layerOf)
          .thenComparingInt(k -> LoraConfig.ALL_TARGETS.indexOf(k.substring(k.lastIndexOf('.') + 1))));
      for (String key : reader.entries().keySet()) {
        Matcher km = KEY.matcher(key);
        if (!km.matches()) {
          throw new IOException(weightsFile + ": tensor '" + key + "' is not a PEFT LoRA key of the form "
              + PREFIX + "model.layers.N.(self_attn|mlp).<proj>.lora_(A|B).weight");
        }
        String module = km.group(1), proj = km.group(4);
        int layer = Integer.parseInt(km.group(2));
        if (!config.targets().contains(proj)) {
          throw new IOException(weightsFile + ": tensor '" + key + "' adapts '" + proj + "', which " + CONFIG
              + " does not list in target_modules " + config.targets());
        }
        if (!LoraConfig.modulePath(layer, proj).equals(module)) {
          throw new IOException(weightsFile + ": tensor '" + key + "' puts " + proj + " under the wrong block");
        }
        if (layer >= model.numLayers()) {
          throw new IOException(weightsFile + ": tensor '" + key + "' is for layer " + layer + " but the base model has "
              + model.numLayers() + " layers");
        }
        NDArray a = reader.read(m, key);
        NDArray[] pair = found.computeIfAbsent(module, k -> new NDArray[2]);
        pair[km.group(5).equals("A") ? 0 : 1] = a;
      }
      Map<String, Lora.Pair> modules = new LinkedHashMap<>();
      Set<Integer> layers = new LinkedHashSet<>();
      for (var e : found.entrySet()) {
        if (e.getValue()[0] == null || e.getValue()[1] == null) {
          throw new IOException(weightsFile + ": module '" + e.getKey() + "' has only one of lora_A / lora_B");
        }
        modules.put(e.getKey(), new Lora.Pair(e.getValue()[0], e.getValue()[1]));
        layers.add(layerOf(e.getKey()));
      }
      if (modules.isEmpty()) throw new IOException(weightsFile + ": no LoRA tensors");
      Set<Integer> declared = config.layers();
      if (declared != null && !declared.containsAll(layers)) {
        throw new IOException(weightsFile + ": tensors for layers " + layers + " but layers_to_transform is " + declared);
      }
      Lora lora = new Lora(config.withLayers(declared == null ? null : declared), m, modules);
      lora.checkFits(model, dir.toString());
      return lora;
    } catch (IOException | RuntimeException e) {
      m.close();
      throw e;
    }
  }

  /** Parses {@code adapter_config.json}; names the file and the key on error. */
  static LoraConfig readConfig(Path file) throws IOException {
    JsonObject j;
    try {
      j = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    } catch (RuntimeException e) {
      throw new IOException(file + ": not a JSON object: " + e.getMessage(), e);
    }
    String type = j.has("peft_type") && !j.get("peft_type").isJsonNull() ? j.get("peft_type").getAsString() : "LORA";
    if (!type.equals("LORA")) throw new IOException(file + ": peft_type is '" + type + "', only LORA is supported");
    if (j.has("use_rslora") && j.get("use_rslora").getAsBoolean()) {
      throw new IOException(file + ": use_rslora = true (scale alpha / sqrt(r)) is not supported");
    }
    if (j.has("fan_in_fan_out") && j.get("fan_in_fan_out").getAsBoolean()) {
      throw new IOException(file + ": fan_in_fan_out = true is for GPT-2 Conv1D layers, not Qwen2 / Llama");
    }
    int r = requireNumber(file, j, "r").getAsInt();
    double alpha = requireNumber(file, j, "lora_alpha").getAsDouble();
    double dropout = j.has("lora_dropout") && !j.get("lora_dropout").isJsonNull() ? j.get("lora_dropout").getAsDouble() : 0;
    if (!j.has("target_modules") || j.get("target_modules").isJsonNull()) {
      throw new IOException(file + ": missing key 'target_modules'");
    }
    JsonElement t = j.get("target_modules");
    List<String> targets = new ArrayList<>();
    if (t.isJsonArray()) {
      for (JsonElement e : t.getAsJsonArray()) targets.add(e.getAsString());
    } else {
      targets.add(t.getAsString()); // PEFT also allows a regex here; only a plain name is accepted below
    }
    for (String name : targets) {
      if (!LoraConfig.ALL_TARGETS.contains(name)) {
        throw new IOException(file + ": target_modules names unknown module '" + name + "'; supported: " + LoraConfig.ALL_TARGETS);
      }
    }
    Set<Integer> layers = null;
    if (j.has("layers_to_transform") && !j.get("layers_to_transform").isJsonNull()) {
      JsonElement l = j.get("layers_to_transform");
      layers = new LinkedHashSet<>();
      if (l.isJsonArray()) {
        for (JsonElement e : l.getAsJsonArray()) layers.add(e.getAsInt());
      } else {
        layers.add(l.getAsInt());
      }
    }
    String bias = j.has("bias") && !j.get("bias").isJsonNull() ? j.get("bias").getAsString() : "none";
    if (!bias.equals("none")) throw new IOException(file + ": bias = '" + bias + "' is not supported (only 'none')");
    try {
      return new LoraConfig(r, alpha, dropout, targets, layers, 0);
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
  }

  private static JsonElement requireNumber(Path file, JsonObject j, String key) throws IOException {
    if (!j.has(key) || j.get(key).isJsonNull()) throw new IOException(file + ": missing key '" + key + "'");
    JsonElement e = j.get(key);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) throw new IOException(file + ": key '" + key + "' is not a number: " + e);
    return e;
  }

  /** Moves a finished temp folder into place; an existing folder is swapped out first, then deleted. */
  static void replaceDir(Path tmp, Path target) throws IOException {
    Path old = null;
    if (Files.exists(target)) {
      old = target.resolveSibling("." + target.getFileName() + ".old-" + System.nanoTime());
      Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    if (old != null) deleteTree(old);
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
    }
  }
}
