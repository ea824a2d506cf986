package dev.resa.core;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * Keeps freed tensor memory in the process on Linux, so the next step's tensors reuse it instead of faulting in
 * fresh pages from the kernel.
 *
 * <p>libtorch allocates every CPU tensor with {@code malloc}. By default glibc returns large freed blocks to the
 * kernel (anything it {@code mmap}ed, and the top of a heap past the trim threshold), so a training loop that
 * allocates the same sizes every step pays for page faults on every step. On this project's 2-core VM those faults
 * cost more than the arithmetic in the SAE's sparse backward (measured with {@code resa bench sae}). Two
 * {@code mallopt} settings change that: blocks under 32 MB (glibc's largest heap threshold) always come from the
 * heap, and freed heap memory is never trimmed. Native memory then stays at its high-water mark, flat across steps;
 * bigger blocks are still {@code mmap}ed and returned. A training loop that ends calls {@link #trim}, so what its
 * steps kept goes back to the kernel before the next stage (a 1.5B model's merge, which allocates large blocks
 * that cannot reuse the heap, otherwise peaked 2 GB above the budget). Elsewhere (macOS, Windows, musl) this does nothing.
 * Set {@code -Dresa.keepFreedMemory=false} to keep glibc's defaults.
 */
public final class NativeHeap {
  private static final int M_TRIM_THRESHOLD = -1;
  private static final int M_MMAP_THRESHOLD = -3;
  /** glibc's upper limit for M_MMAP_THRESHOLD on 64-bit: 4 MiB · sizeof(long). */
  static final int MAX_HEAP_BLOCK = 32 << 20;

  private interface LibC extends Library {
    int mallopt(int param, int value);

    int malloc_trim(long pad);
  }

  /** Whether {@link #keepFreedMemory} took effect (then {@link #trim} has work to do). */
  private static volatile LibC applied;

  private NativeHeap() {}

  /** Applies the settings once; returns whether glibc accepted them. */
  static boolean keepFreedMemory() {
    if (!Boolean.parseBoolean(System.getProperty("resa.keepFreedMemory", "true")) || !Platform.isLinux()) return false;
    try {
      LibC libc = Native.load("c", LibC.class);
      boolean ok = libc.mallopt(M_MMAP_THRESHOLD, MAX_HEAP_BLOCK) == 1 && libc.mallopt(M_TRIM_THRESHOLD, Integer.MAX_VALUE) == 1;
      if (ok) applied = libc;
      return ok;
    } catch (Throwable e) { // not glibc, or no JNA native support: keep the defaults
      return false;
    }
  }

  /**
   * Returns the heap's free memory to the kernel ({@code malloc_trim(0)}): for the end of a loop whose steps kept
   * it, not for inside one. A no-op where {@link #keepFreedMemory} did not apply.
   */
  public static void trim() {
    LibC libc = applied;
    if (libc != null) libc.malloc_trim(0);
  }
}
