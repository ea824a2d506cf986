package dev.resa.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Preallocated key/value buffers for incremental decoding: one [B, kvHeads, capacity, headDim] pair per layer,
 * written in place, so a decode step costs the same whatever the context length (up to attention itself). Keys and
 * values live in separate buffers so that a read of the first S positions, [B, K, S, E], folds B and K into one
 * batch axis without a copy: attention's batched matmul then reads the cache where it is (a shared
 * [B, 2K, capacity, E] buffer forced a copy of the whole context per layer and step at batch 16).
 *
 * <p>Writes and reads go straight to libtorch's slicing ({@code index_put_} / {@code index} with one slice per
 * axis): one JNI call each, where DJL's {@code NDIndex} route parses a string and makes five to seven calls. Reads
 * are views that land in the caller's manager, so nothing piles up in the cache's own manager.
 *
 * <p>Rows can leave the batch ({@link #keepRows}): generation drops finished prompts so the remaining ones stop
 * paying for them.
 */
public final class KvCache implements AutoCloseable {
  private final NDManager manager;
  private final PtNDArray[] keys; // per layer [B, K, capacity, E]
  private final PtNDArray[] values; // per layer [B, K, capacity, E]
  private final int capacity;
  private final int kvHeads;
  private final int headDim;
  private int batch;
  private int length;
  /** [B, capacity] additive mask: 0 where a key is real, {@link DecoderLM#PAD_SCORE} where it is left padding. Null when unpadded. */
  private PtNDArray padMask;

  public KvCache(ModelConfig c, NDManager parent, int batch, int capacity, DataType dtype) {
    if (batch < 1 || capacity < 1) throw new IllegalArgumentException("KV cache needs batch and capacity >= 1, got " + batch + " and " + capacity);
    this.manager = parent.newSubManager();
    this.capacity = capacity;
    this.kvHeads = c.numKvHeads();
    this.headDim = c.headDim();
    this.batch = batch;
    this.keys = new PtNDArray[c.numLayers()];
    this.values = new PtNDArray[c.numLayers()];
    Shape s = new Shape(batch, kvHeads, capacity, headDim);
    for (int l = 0; l < keys.length; l++) {
      keys[l] = (PtNDArray) manager.zeros(s, dtype);
      values[l] = (PtNDArray) manager.zeros(s, dtype);
    }
  }

  public int length() {
    return length;
  }

  public int capacity() {
    return capacity;
  }

  /** Rows currently held. */
  public int batch() {
    return batch;
  }

  /** Marks the first {@code pads[b]} positions of row b as padding that no query may attend to. */
  public void setLeftPadding(int[] pads) {
    if (pads.length != batch) throw new IllegalArgumentException(pads.length + " padding lengths for a batch of " + batch);
    boolean any = false;
    float[] m = new float[pads.length * capacity];
    for (int b = 0; b < pads.length; b++) {
      for (int t = 0; t < pads[b]; t++) m[b * capacity + t] = DecoderLM.PAD_SCORE;
      any |= pads[b] > 0;
    }
    if (padMask != null) padMask.close();
    padMask = any ? (PtNDArray) manager.create(m, new Shape(pads.length, capacity)).toType(keys[0].getDataType(), false) : null;
  }

  /** Writes this step's keys/values ([B, kvHeads, T, hd]) and returns views of everything cached so far. */
  NDArray[] append(int layer, NDArray k, NDArray v) {
    int t = write(layer, k, v);
    NDManager into = k.getManager();
    return new NDArray[] {keys(layer, length + t, into), values(layer, length + t, into)};
  }

  /** Writes this step's keys/values ([B, kvHeads, T, hd]) after the cached ones; returns T. */
  int write(int layer, NDArray k, NDArray v) {
    int t = (int) k.getShape().get(2);
    if (length + t > capacity) {
      throw new IllegalStateException("KV cache full: " + length + " + " + t + " > capacity " + capacity);
    }
    long[] from = {0, 0, length}, to = {batch, kvHeads, length + t};
    JniUtils.indexSet(keys[layer], (PtNDArray) k, from, to, ONES3);
    JniUtils.indexSet(values[layer], (PtNDArray) v, from, to, ONES3);
    return t;
  }

  /** A view of the first {@code upTo} cached keys of {@code layer}, [B, K, upTo, E], owned by {@code into}. */
  PtNDArray keys(int layer, int upTo, NDManager into) {
    return JniUtils.index(keys[layer], new long[] {0, 0, 0}, new long[] {batch, kvHeads, upTo}, ONES3, (PtNDManager) into);
  }

  /** A view of the first {@code upTo} cached values of {@code layer}, [B, K, upTo, E], owned by {@code into}. */
  PtNDArray values(int layer, int upTo, NDManager into) {
    return JniUtils.index(values[layer], new long[] {0, 0, 0}, new long[] {batch, kvHeads, upTo}, ONES3, (PtNDManager) into);
  }

  /** The padding mask over the first {@code upTo} keys as [B, 1, .., 1, upTo] of {@code rank} axes (owned by {@code into}), or null. */
  NDArray padMask(int upTo, NDManager into, int rank) {
    if (padMask == null) return null;
    PtNDArray m = JniUtils.index(padMask, new long[] {0, 0}, new long[] {batch, upTo}, ONES2, (PtNDManager) into);
    long[] shape = new long[rank];
    java.util.Arrays.fill(shape, 1);
    shape[0] = batch;
    shape[rank - 1] = upTo;
    return JniUtils.reshape(m, shape);
  }

  /**
   * Keeps only rows {@code rows} (in that order) and frees the others: one row gather per layer, so call it when
   * rows finish, not every step.
   */
  public void keepRows(int[] rows) {
    if (rows.length == 0) throw new IllegalArgumentException("keepRows: no rows left; close the cache instead");
    long[] idx = new long[rows.length];
    for (int i = 0; i < rows.length; i++) {
      if (rows[i] < 0 || rows[i] >= batch) throw new IllegalArgumentException("row " + rows[i] + " out of range 0.." + (batch - 1));
      idx[i] = rows[i];
    }
    try (NDManager tmp = manager.newSubManager()) {
      PtNDArray index = (PtNDArray) tmp.create(idx);
      for (int l = 0; l < keys.length; l++) {
        keys[l] = gatherRows(keys[l], index);
        values[l] = gatherRows(values[l], index);
      }
      if (padMask != null) padMask = gatherRows(padMask, index);
    }
    batch = rows.length;
  }

  /** {@code a[index]} along axis 0 as a new array in the cache's manager; frees {@code a}. */
  private PtNDArray gatherRows(PtNDArray a, PtNDArray index) {
    Shape s = a.getShape();
    long row = s.size() / s.get(0);
    PtNDArray flat = JniUtils.reshape(a, new long[] {s.get(0), row}); // [B, rest]: embedding gathers rows of a matrix
    PtNDArray picked = JniUtils.embedding(index, flat, false); // [rows, rest], in index's manager
    long[] shape = s.getShape();
    shape[0] = index.getShape().get(0);
    PtNDArray out = JniUtils.reshape(picked, shape);
    out.attach(manager);
    flat.close();
    a.close();
    return out;
  }

  void advance(int t) {
    length += t;
  }

  @Override
  public void close() {
    manager.close();
  }

  private static final long[] ONES2 = {1, 1};
  private static final long[] ONES3 = {1, 1, 1};
}
