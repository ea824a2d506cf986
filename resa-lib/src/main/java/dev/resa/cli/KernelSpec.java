package dev.resa.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.resa.io.AtomicFiles;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A Jupyter kernelspec ({@code <data dir>/kernels/<name>/kernel.json}) that starts the Resa Java kernel:
 * {@code java --add-opens jdk.jshell/jdk.jshell=ALL-UNNAMED <jvm options> -cp <kernel jar>:<resa-lib jar>:<lib>/*
 * dev.resa.kernel.KernelMain {connection_file}} with {@code interrupt_mode: message} (the default, {@code signal},
 * would SIGINT the whole JVM instead of stopping the running cell).
 *
 * @param name kernel directory name, e.g. {@code resa-java} (what notebooks name in their metadata)
 * @param displayName name shown in the Jupyter launcher
 * @param java the java executable
 * @param jvmOptions options placed before {@code -cp}
 * @param classpath kernel jar first, then resa-lib and its dependencies (entries may end in {@code /*})
 * @param env environment variables for the kernel process
 */
public record KernelSpec(String name, String displayName, String java, List<String> jvmOptions, List<String> classpath,
    Map<String, String> env) {
  public static final String MAIN_CLASS = "dev.resa.kernel.KernelMain";
  public static final String DEFAULT_NAME = "resa-java";
  /** Needed to unload replaced snippet classes (JShell's Snippet.classFullName is not exported). */
  public static final List<String> REQUIRED_JVM_OPTIONS = List.of("--add-opens", "jdk.jshell/jdk.jshell=ALL-UNNAMED");
  /** Defaults: room for models, DJL offline (no downloads from a notebook). */
  public static final List<String> DEFAULT_JVM_OPTIONS =
      List.of("-Xmx8g", "-XX:MaxDirectMemorySize=8g", "-Dai.djl.offline=true",
          "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
  public static final Map<String, String> DEFAULT_ENV =
      Map.of("DJL_OFFLINE", "true", "OPT_OUT_TRACKING", "true", "MALLOC_ARENA_MAX", "2");

  public KernelSpec {
    if (!name.matches("[A-Za-z0-9._-]+")) throw new IllegalArgumentException("kernel name must match [A-Za-z0-9._-]+: " + name);
    jvmOptions = List.copyOf(jvmOptions);
    classpath = List.copyOf(classpath);
    env = Map.copyOf(env);
  }

  /** The command line Jupyter runs; {@code {connection_file}} is substituted by Jupyter. */
  public List<String> argv() {
    List<String> argv = new ArrayList<>();
    argv.add(java);
    argv.addAll(REQUIRED_JVM_OPTIONS);
    argv.addAll(jvmOptions);
    argv.add("-cp");
    argv.add(String.join(File.pathSeparator, classpath));
    argv.add(MAIN_CLASS);
    argv.add("{connection_file}");
    return argv;
  }

  /** The same spec with {@code extra} JVM options appended. */
  public KernelSpec withJvmOptions(List<String> extra) {
    List<String> all = new ArrayList<>(jvmOptions);
    all.addAll(extra);
    return new KernelSpec(name, displayName, java, all, classpath, env);
  }

  /** The kernel.json text. */
  public String toJson() {
    JsonObject o = new JsonObject();
    JsonArray argv = new JsonArray();
    argv().forEach(argv::add);
    o.add("argv", argv);
    o.addProperty("display_name", displayName);
    o.addProperty("language", "java");
    o.addProperty("interrupt_mode", "message");
    JsonObject e = new JsonObject();
    new TreeMap<>(env).forEach(e::addProperty);
    o.add("env", e);
    JsonObject meta = new JsonObject();
    meta.addProperty("debugger", false);
    o.add("metadata", meta);
    return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(o) + "\n";
  }

  /** Writes {@code <jupyterDataDir>/kernels/<name>/kernel.json} (replacing an older one) and returns its folder. */
  public Path install(Path jupyterDataDir) throws IOException {
    Path dir = jupyterDataDir.resolve("kernels").resolve(name);
    Files.createDirectories(dir);
    Path json = dir.resolve("kernel.json");
    AtomicFiles.writeString(json, toJson());
    try { // Jupyter (and other users, for shared prefixes) must be able to read it
      Files.setPosixFilePermissions(json, PosixFilePermissions.fromString("rw-r--r--"));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: default permissions apply
    }
    return dir;
  }

  /** Deletes {@code <jupyterDataDir>/kernels/<name>}; returns false when it was not installed there. */
  public static boolean remove(Path jupyterDataDir, String name) throws IOException {
    Path dir = jupyterDataDir.resolve("kernels").resolve(name);
    if (!Files.isDirectory(dir)) return false;
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) Files.delete(p);
    }
    return true;
  }

  /**
   * Jupyter's data directory: {@code <prefix>/share/jupyter} with a prefix, else the per-user one
   * ({@code $JUPYTER_DATA_DIR}, or the platform default Jupyter uses).
   */
  public static Path dataDir(Path prefix, Map<String, String> environment) {
    if (prefix != null) return prefix.resolve("share").resolve("jupyter");
    String explicit = environment.get("JUPYTER_DATA_DIR");
    if (explicit != null && !explicit.isBlank()) return Path.of(explicit);
    Path home = Path.of(System.getProperty("user.home"));
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (os.contains("mac")) return home.resolve("Library").resolve("Jupyter");
    if (os.contains("win")) {
      String appData = environment.get("APPDATA");
      return (appData != null ? Path.of(appData) : home.resolve("AppData").resolve("Roaming")).resolve("jupyter");
    }
    String xdg = environment.get("XDG_DATA_HOME");
    return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : home.resolve(".local").resolve("share")).resolve("jupyter");
  }

  /** Default environment plus {@code extra} (extra wins). */
  public static Map<String, String> env(Map<String, String> extra) {
    Map<String, String> m = new LinkedHashMap<>(DEFAULT_ENV);
    m.putAll(extra);
    return m;
  }
}
