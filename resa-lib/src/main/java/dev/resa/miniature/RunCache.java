package dev.resa.miniature;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.reflect.TypeToken;
import dev.resa.io.AtomicFiles;
import dev.resa.tuning.Grpo;
import dev.resa.tuning.LoraTrainer;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import tech.tablesaw.api.Table;

/**
 * The miniature's run cache: a stage's folder is valid when its {@code key.txt} holds the hash of the stage's
 * settings and of its inputs' keys, so changing a knob retrains that stage and everything downstream of it, and
 * nothing upstream. {@code stage.json} (wall time, steps, extras) is written last and marks the stage done.
 */
final class RunCache {
  private RunCache() {}

  static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();

  /** Bumped whenever a stage computes something different from the same settings; older caches are rebuilt. */
  static final int VERSION = 3;

  /** A 16-hex-digit hash of the code version and {@code parts} (settings records and upstream keys), in order. */
  static String key(Object... parts) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest((VERSION + new Gson().toJson(parts)).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(h).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The settings of a LoRA loop that change its updates, for keys (a Config also holds an output Path, which a key must not). */
  static List<Object> loopKey(LoraTrainer.Config c) {
    return List.of(c.schedule(), c.warmupRatio(), c.minLrRatio(), c.horizon(), c.weightDecay(), c.clipNorm());
  }

  /** A weighted GRPO reward's terms as (name, weight) pairs, for keys. */
  static List<Object> rewardKey(Grpo.Weighted r) {
    return r.terms().stream().map(t -> (Object) List.of(t.name(), t.weight())).toList();
  }

  /** Whether {@code d} holds a finished stage made with {@code key}; if it holds anything else, it is deleted. */
  static boolean done(Path d, String key) throws IOException {
    boolean ok = Files.isRegularFile(d.resolve("stage.json")) && key.equals(keyOf(d));
    if (!ok && Files.exists(d)) deleteTree(d);
    return ok;
  }

  static String keyOf(Path d) throws IOException {
    Path f = d.resolve("key.txt");
    return Files.isRegularFile(f) ? Files.readString(f).trim() : "";
  }

  /** Writes the step log as {@code train.csv} (stages without steps pass an empty table), the key, and {@code stage.json} last. */
  static void finish(Path d, String key, Table log, long t0, Map<String, Double> extra) throws IOException {
    Files.createDirectories(d);
    if (log.columnCount() > 0) AtomicFiles.write(d.resolve("train.csv"), out -> {
      OutputStreamWriter w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
      log.write().csv(w);
      w.flush();
    });
    Map<String, Double> meta = new LinkedHashMap<>();
    meta.put("wall_s", (System.nanoTime() - t0) / 1e9);
    meta.put("steps", (double) log.rowCount());
    meta.putAll(extra);
    AtomicFiles.writeString(d.resolve("key.txt"), key);
    AtomicFiles.writeString(d.resolve("stage.json"), GSON.toJson(meta));
  }

  static Map<String, Double> read(Path d) throws IOException {
    return GSON.fromJson(Files.readString(d.resolve("stage.json")), new TypeToken<Map<String, Double>>() {}.getType());
  }

  static void deleteTree(Path d) throws IOException {
    try (Stream<Path> s = Files.walk(d)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
