package dev.resa.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Upper-bound estimates of the resident memory a stage needs, in bytes (float32 everywhere), so a configuration
 * that cannot fit fails before any work with a message saying what to lower, instead of being killed by the
 * kernel halfway through. The counts follow what {@link DecoderLM} keeps alive: within one layer of a full
 * forward its intermediates (freed when the layer ends), under autograd what backward saves for every layer.
 * They are deliberately generous; {@code ./resa bench scale} prints each estimate next to the measured peak.
 */
public final class MemoryEstimate {
  private static final long F = 4; // bytes per float32

  private MemoryEstimate() {}

  /** Parameters of {@code c} in float32 (held once: native memory, no heap copy). */
  public static long weights(ModelConfig c) {
    long n = 0;
    for (String name : Weights.names(c)) n += Weights.expectedShape(c, name).size();
    return n * F;
  }

  /** One layer's intermediates at batch b, t new tokens over s keys: scores (x3), MLP (x4), ~24 [b, t, d] arrays. */
  static long layerTransient(ModelConfig c, long b, long t, long s) {
    return F * b * (3L * c.numHeads() * t * s + 4L * t * c.intermediateSize() + 24L * t * c.hiddenSize());
  }

  /** A no-gradient full forward of b × t tokens returning all logits, beyond the weights. */
  public static long forward(ModelConfig c, long b, long t) {
    return layerTransient(c, b, t, t) + F * b * t * ((long) c.numLayers() * c.hiddenSize() + 2L * c.vocabSize());
  }

  /**
   * One Stage-II step beyond the weights and the SAE: the frozen prefix and the teacher suffix run without
   * gradient (one layer's transient at a time); the student suffix saves, per layer, its softmax, five [b, t, I]
   * MLP arrays, the LoRA dropout masks and inputs and ~32 [b, t, d] arrays; the loss holds ~8 [chunk, V] arrays.
   */
  public static long stageTwoStep(ModelConfig c, int spliceLayer, long b, long t, int lossChunkRows, long adapterParams) {
    long suffix = c.numLayers() - 1 - spliceLayer;
    long saved = F * b * ((long) c.numHeads() * t * t + 7L * t * c.intermediateSize() + 32L * t * c.hiddenSize());
    long loss = F * 8L * Math.min((long) lossChunkRows, b * t) * c.vocabSize();
    return suffix * saved + 2 * layerTransient(c, b, t, t) + loss + 4 * F * adapterParams + F * b * t * c.hiddenSize() * 4;
  }

  /** MemAvailable of /proc/meminfo plus this process's resident set, or -1 when unknown (not Linux). */
  public static long availableToThisProcess() {
    try {
      long avail = -1, rss = 0;
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemAvailable:")) avail = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) rss = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
      return avail < 0 ? -1 : avail + rss;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * Throws {@link IllegalStateException} when {@code needBytes} exceeds {@code budgetBytes}; the one-line message
   * names the stage, both numbers and {@code whatToLower}.
   */
  public static void require(String stage, long needBytes, long budgetBytes, String whatToLower) {
    if (budgetBytes > 0 && needBytes > budgetBytes) {
      throw new IllegalStateException(String.format(Locale.ROOT, "%s needs about %.1f GB but the budget is %.1f GB: %s",
          stage, needBytes / 1e9, budgetBytes / 1e9, whatToLower));
    }
  }

  /** Bytes as "x.y GB". */
  public static String gb(long bytes) {
    return String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
  }
}
