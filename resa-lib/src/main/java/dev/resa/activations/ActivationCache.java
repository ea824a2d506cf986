package dev.resa.activations;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.io.AtomicFiles;
import dev.resa.io.SafeTensors;
import dev.resa.train.Progress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Activations on disk, so many SAE runs share one model pass: {@code dir/<hook>/shard-NNNNN.safetensors} (tensor
 * {@code activations} [rows, d], fp32 or bf16) plus {@code dir/cache.json} (hooks, width, shard count, rows).
 * Streaming reads the shards in order through a seeded shuffle buffer; all hook points receive the same rows.
 */
public final class ActivationCache {
  public static final String INDEX = "cache.json";
  private static final String TENSOR = "activations";

  private ActivationCache() {}

  /** What {@code cache.json} records. */
  public record Info(List<String> hooks, int width, int shards, long rows, String dtype) {}

  /** Runs {@code src} over {@code chunks} and writes one shard per {@code seqsPerShard} chunks. */
  public static Info write(Path dir, ActivationSource src, List<long[]> chunks, int seqsPerShard, SafeTensors.FloatFormat format) throws IOException {
    if (seqsPerShard <= 0) throw new IllegalArgumentException("seqsPerShard must be positive");
    for (String h : src.points()) Files.createDirectories(dir.resolve(h));
    int shards = 0;
    long rows = 0;
    try (NDManager m = src.model().manager().newSubManager();
        Progress.Bar bar = Progress.start("cache activations", (chunks.size() + seqsPerShard - 1) / seqsPerShard)) {
      Iterator<Map<String, NDArray>> it = src.batches(chunks, seqsPerShard, m);
      while (it.hasNext()) {
        Progress.checkInterrupted();
        Map<String, NDArray> acts = it.next();
        for (var e : acts.entrySet()) {
          SafeTensors.write(shardPath(dir, e.getKey(), shards), Map.of(TENSOR, e.getValue()), Map.of(), format);
        }
        rows += acts.values().iterator().next().getShape().get(0);
        for (NDArray a : acts.values()) a.close();
        bar.update(++shards, Map.of("rows", (double) rows));
      }
    }
    Info info = new Info(src.points(), src.width(), shards, rows, format.name());
    AtomicFiles.writeString(dir.resolve(INDEX), new Gson().toJson(info));
    return info;
  }

  private static Path shardPath(Path dir, String hook, int shard) {
    return dir.resolve(hook).resolve(String.format("shard-%05d.safetensors", shard));
  }

  public static Info info(Path dir) throws IOException {
    Path f = dir.resolve(INDEX);
    if (!Files.isRegularFile(f)) throw new IOException("no " + INDEX + " in " + dir + " (not an activation cache)");
    JsonObject o = JsonParser.parseString(Files.readString(f)).getAsJsonObject();
    for (String key : new String[] {"hooks", "width", "shards", "rows", "dtype"}) {
      if (!o.has(key)) throw new IOException(f + ": missing field '" + key + "'");
    }
    return new Gson().fromJson(o, Info.class);
  }

  private record Row(float[][] shardPerHook, int row) {}

  /**
   * Streams batches of {@code batchTokens} rows (hook → [rows, d] fp32 in {@code manager}) through a shuffle buffer
   * of {@code bufferRows} rows (1 = the original order), seeded. The last batch may be smaller.
   */
  public static Iterator<Map<String, NDArray>> stream(Path dir, NDManager manager, int batchTokens, int bufferRows, long seed) throws IOException {
    Info info = info(dir);
    if (batchTokens <= 0 || bufferRows <= 0) throw new IllegalArgumentException("batchTokens and bufferRows must be positive");
    int d = info.width();
    int capacity = Math.max(bufferRows, batchTokens);
    SplittableRandom rng = new SplittableRandom(seed);
    return new Iterator<>() {
      final List<Row> buffer = new ArrayList<>();
      int nextShard = 0;

      private void fill() {
        while (buffer.size() < capacity && nextShard < info.shards()) {
          float[][] perHook = new float[info.hooks().size()][];
          int rows = -1;
          for (int h = 0; h < perHook.length; h++) {
            Path p = shardPath(dir, info.hooks().get(h), nextShard);
            try (SafeTensors.Reader r = SafeTensors.open(p)) {
              perHook[h] = r.readFloats(TENSOR);
              int n = perHook[h].length / d;
              if (rows >= 0 && n != rows) throw new IOException(p + ": " + n + " rows, other hooks have " + rows);
              rows = n;
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }
          for (int i = 0; i < rows; i++) buffer.add(new Row(perHook, i));
          nextShard++;
        }
      }

      @Override
      public boolean hasNext() {
        fill();
        return !buffer.isEmpty();
      }

      @Override
      public Map<String, NDArray> next() {
        if (!hasNext()) throw new NoSuchElementException();
        int n = Math.min(batchTokens, buffer.size());
        float[][] out = new float[info.hooks().size()][n * d];
        for (int i = 0; i < n; i++) {
          int pick = bufferRows == 1 ? 0 : rng.nextInt(buffer.size());
          Row r = buffer.get(pick);
          if (bufferRows == 1) buffer.remove(0);
          else {
            buffer.set(pick, buffer.get(buffer.size() - 1));
            buffer.remove(buffer.size() - 1);
          }
          for (int h = 0; h < out.length; h++) System.arraycopy(r.shardPerHook()[h], r.row() * d, out[h], i * d, d);
        }
        Map<String, NDArray> batch = new LinkedHashMap<>();
        for (int h = 0; h < out.length; h++) batch.put(info.hooks().get(h), manager.create(out[h], new Shape(n, d)));
        return batch;
      }
    };
  }
}
