package dev.resa.core;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

/**
 * The one place that talks to DJL's engine setup.
 *
 * <p>DJL phones home (EC2 metadata, telemetry) unless offline mode is set before the first engine call, and
 * would try to download a libtorch build if the bundled native jar did not match. {@link #init()} sets the
 * switches and is called by every entry point and by {@link #newManager(Device)}; calling it again is free. It
 * also tunes glibc to keep freed tensor memory ({@link NativeHeap}).
 */
public final class Djl {
  private static volatile boolean initialised;

  private Djl() {}

  /** Sets DJL's offline and no-tracking switches (idempotent). Must run before the first DJL call. */
  public static void init() {
    if (initialised) return;
    synchronized (Djl.class) {
      if (initialised) return;
      setIfAbsent("ai.djl.offline", "true");
      setIfAbsent("OPT_OUT_TRACKING", "true");
      setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "warn");
      setIfAbsent("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "off");
      NativeHeap.keepFreedMemory();
      initialised = true;
    }
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) System.setProperty(key, value);
  }

  /** A fresh root manager on {@code device}. Close it (try-with-resources) to free its native memory. */
  public static NDManager newManager(Device device) {
    init();
    return NDManager.newBaseManager(device, "PyTorch");
  }

  /**
   * Sets PyTorch's intra-op thread count, loading the engine first. Tiny models run fastest on one thread: a pool
   * costs more than it saves on their small matrices and oversubscribes a shared machine.
   */
  public static void setThreads(int threads) {
    if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    init();
    Engine.getEngine("PyTorch");
    ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
  }

  /** The default device: the first GPU when DJL's engine sees one, else the CPU. */
  public static Device defaultDevice() {
    init();
    return Engine.getEngine("PyTorch").defaultDevice();
  }

  /**
   * Parses a device name as users type it: {@code cpu}, {@code cuda}, {@code cuda:1}, {@code gpu:0}, or
   * {@code auto} (the default device).
   */
  public static Device parseDevice(String name) {
    init();
    String n = name.trim().toLowerCase(java.util.Locale.ROOT);
    if (n.equals("auto")) return defaultDevice();
    if (n.equals("cpu")) return Device.cpu();
    if (n.startsWith("cuda") || n.startsWith("gpu")) {
      int colon = n.indexOf(':');
      int id = colon < 0 ? 0 : Integer.parseInt(n.substring(colon + 1));
      return Device.gpu(id);
    }
    throw new IllegalArgumentException("unknown device '" + name + "' (expected cpu, cuda, cuda:N or auto)");
  }
}
