package dev.resa.sae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import dev.resa.io.AtomicFiles;
import dev.resa.io.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Export to SAELens' layout: {@code sae_weights.safetensors} with {@code W_enc} [d, n] (transposed relative to
 * sparsify), {@code b_enc} [n], {@code W_dec} [n, d], {@code b_dec} [d], and a {@code cfg.json} keyed by
 * {@code architecture = "topk"}.
 */
public final class SaeLensExport {
  private SaeLensExport() {}

  /**
   * Writes {@code sae} to {@code dir}. {@code modelName} and {@code hookName} fill SAELens' provenance fields
   * (e.g. "DeepSeek-R1-Distill-Qwen-1.5B", "blocks.12.hook_resid_post").
   */
  public static void write(Path dir, SparseCoder sae, String modelName, String hookName) throws IOException {
    Files.createDirectories(dir);
    SparseCoderConfig c = sae.config();
    try (NDManager tmp = sae.manager().newSubManager()) {
      Map<String, NDArray> t = new LinkedHashMap<>();
      NDArray wEncT = sae.wEnc().stopGradient().transpose().duplicate(); // [d, n], contiguous
      wEncT.attach(tmp);
      t.put("W_enc", wEncT);
      t.put("b_enc", sae.bEnc());
      t.put("W_dec", sae.wDec());
      t.put("b_dec", sae.bDec());
      SafeTensors.write(dir.resolve("sae_weights.safetensors"), t, Map.of(), SafeTensors.FloatFormat.F32);
    }
    Map<String, Object> cfg = new LinkedHashMap<>();
    cfg.put("architecture", "topk");
    cfg.put("d_in", c.dIn());
    cfg.put("d_sae", c.numLatents());
    cfg.put("activation_fn_str", "topk");
    cfg.put("activation_fn_kwargs", Map.of("k", c.k()));
    cfg.put("apply_b_dec_to_input", true);
    cfg.put("normalize_activations", "none");
    cfg.put("dtype", "float32");
    cfg.put("device", "cpu");
    cfg.put("model_name", modelName);
    cfg.put("hook_name", hookName);
    cfg.put("hook_layer", layerNumber(hookName));
    cfg.put("hook_head_index", null);
    cfg.put("context_size", 2048);
    cfg.put("prepend_bos", true);
    cfg.put("dataset_path", "");
    cfg.put("sae_lens_training_version", null);
    AtomicFiles.writeString(dir.resolve("cfg.json"), new GsonBuilder().serializeNulls().setPrettyPrinting().create().toJson(cfg));
  }

  private static int layerNumber(String hook) {
    for (String part : hook.split("\\.")) {
      if (part.chars().allMatch(Character::isDigit) && !part.isEmpty()) return Integer.parseInt(part);
    }
    return -1;
  }
}
