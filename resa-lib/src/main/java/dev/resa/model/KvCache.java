package dev.resa.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Preallocated key/value buffers for incremental decoding: one [B, kvHeads, capacity, headDim] pair per layer,
 * written in place, so a decode step costs the same whatever the context length (up to attention itself).
 */
public final class KvCache implements AutoCloseable {
  private final NDManager manager;
  private final NDArray[] keys;
  private final NDArray[] values;
  private final int capacity;
  private int length;
  /** [B, capacity] additive mask: 0 where a key is real, {@link DecoderLM#PAD_SCORE} where it is left padding. Null when unpadded. */
  private NDArray padMask;

  public KvCache(ModelConfig c, NDManager parent, int batch, int capacity, DataType dtype) {
    this.manager = parent.newSubManager();
    this.capacity = capacity;
    this.keys = new NDArray[c.numLayers()];
    this.values = new NDArray[c.numLayers()];
    Shape s = new Shape(batch, c.numKvHeads(), capacity, c.headDim());
    for (int l = 0; l < c.numLayers(); l++) {
      keys[l] = manager.zeros(s, dtype);
      values[l] = manager.zeros(s, dtype);
    }
  }

  public int length() {
    return length;
  }

  public int capacity() {
    return capacity;
  }

  /** Marks the first {@code pads[b]} positions of row b as padding that no query may attend to. */
  public void setLeftPadding(int[] pads) {
    float[] m = new float[pads.length * capacity];
    for (int b = 0; b < pads.length; b++) {
      for (int t = 0; t < pads[b]; t++) m[b * capacity + t] = DecoderLM.PAD_SCORE;
    }
    if (padMask != null) padMask.close();
    padMask = manager.create(m, new Shape(pads.length, capacity)).toType(keys[0].getDataType(), false);
  }

  /** Writes this step's keys/values ([B, kvHeads, T, hd]) and returns views of everything cached so far. */
  NDArray[] append(int layer, NDArray k, NDArray v) {
    int t = (int) k.getShape().get(2);
    if (length + t > capacity) {
      throw new IllegalStateException("KV cache full: " + length + " + " + t + " > capacity " + capacity);
    }
    NDIndex slot = new NDIndex(":, :, {}:{}", length, length + t);
    keys[layer].set(slot, k);
    values[layer].set(slot, v);
    NDIndex upTo = new NDIndex(":, :, :{}", length + t);
    return new NDArray[] {keys[layer].get(upTo), values[layer].get(upTo)};
  }

  /** The padding mask over the first {@code upTo} keys as [B, 1, 1, 1, upTo], or null. */
  NDArray padMask(int upTo) {
    if (padMask == null) return null;
    NDArray m = padMask.get(new NDIndex(":, :{}", upTo));
    return m.reshape(m.getShape().get(0), 1, 1, 1, upTo);
  }

  void advance(int t) {
    length += t;
  }

  /** Arrays a per-step scope must temporarily attach so views of the cache do not pile up in its manager. */
  void attachTo(NDManager step) {
    for (NDArray a : keys) a.tempAttach(step);
    for (NDArray a : values) a.tempAttach(step);
    if (padMask != null) padMask.tempAttach(step);
  }

  @Override
  public void close() {
    manager.close();
  }
}
