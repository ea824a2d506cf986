package dev.resa.activations;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.resa.model.DecoderLM;
import dev.resa.model.Hooks;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Runs a decoder over packed token chunks and returns the activations at several hook points from one forward,
 * which stops after the deepest hooked layer (the layers above it would be wasted work). Each point yields
 * [B·T, d] rows, d = the model's hidden size.
 */
public final class ActivationSource {
  private final DecoderLM model;
  private final List<String> points;
  private final int deepest;

  /** Validates every point against the model (an unknown point fails here, naming the valid ones). */
  public ActivationSource(DecoderLM model, List<String> hookPoints) {
    if (hookPoints.isEmpty()) throw new IllegalArgumentException("no hook points given");
    this.model = model;
    this.points = List.copyOf(hookPoints);
    int d = -1;
    for (String p : points) d = Math.max(d, Hooks.layerOf(p, model.config()));
    this.deepest = Math.max(d, 0);
  }

  public List<String> points() {
    return points;
  }

  /** Width d of every hook point (the residual stream, attention and MLP outputs all have the hidden size). */
  public int width() {
    return model.config().hiddenSize();
  }

  /** The model whose activations this source reads. */
  public DecoderLM model() {
    return model;
  }

  /** Activations for {@code chunks} (each of the same length T) as [B·T, d] per point, owned by {@code out}. */
  public Map<String, NDArray> capture(List<long[]> chunks, NDManager out) {
    if (chunks.isEmpty()) throw new IllegalArgumentException("no chunks to run");
    int t = chunks.get(0).length;
    long[] flat = new long[chunks.size() * t];
    for (int b = 0; b < chunks.size(); b++) {
      if (chunks.get(b).length != t) throw new IllegalArgumentException("chunk " + b + " has length " + chunks.get(b).length + ", expected " + t);
      System.arraycopy(chunks.get(b), 0, flat, b * t, t);
    }
    Map<String, NDArray> acts = new LinkedHashMap<>();
    try (NDManager step = model.stepScope()) {
      NDArray tokens = step.create(flat, new Shape(chunks.size(), t)); // [B, T]
      Hooks hooks = Hooks.create();
      for (String p : points) {
        hooks.read(p, a -> {
          NDArray rows = a.stopGradient().reshape(-1, width()).toType(ai.djl.ndarray.types.DataType.FLOAT32, true); // [B·T, d]
          rows.attach(out);
          acts.put(p, rows);
        });
      }
      model.forward(tokens, new DecoderLM.Options().hooks(hooks).stopAfter(deepest));
    }
    return acts;
  }

  /** Lazily captures consecutive batches of {@code seqsPerBatch} chunks (the trailing partial batch included). */
  public Iterator<Map<String, NDArray>> batches(List<long[]> chunks, int seqsPerBatch, NDManager out) {
    if (seqsPerBatch <= 0) throw new IllegalArgumentException("seqsPerBatch must be positive");
    return new Iterator<>() {
      int next = 0;

      @Override
      public boolean hasNext() {
        return next < chunks.size();
      }

      @Override
      public Map<String, NDArray> next() {
        if (!hasNext()) throw new NoSuchElementException();
        List<long[]> part = new ArrayList<>(chunks.subList(next, Math.min(chunks.size(), next + seqsPerBatch)));
        next += part.size();
        return capture(part, out);
      }
    };
  }
}
