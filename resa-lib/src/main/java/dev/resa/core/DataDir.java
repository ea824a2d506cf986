package dev.resa.core;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the offline benchmark data lives (MATH500, AIME24, ..., models/stories260K). Never copied into the
 * project: resolved from {@code --data-dir}, then the {@code resa.dataDir} system property, then the
 * {@code RESA_DATA_DIR} environment variable, then {@code ../shared/data} next to the working directory.
 */
public final class DataDir {
  private DataDir() {}

  /** The configured data directory, whether or not it exists. */
  public static Path resolve(Path explicit) {
    if (explicit != null) return explicit;
    String prop = System.getProperty("resa.dataDir");
    if (prop != null && !prop.isBlank()) return Path.of(prop);
    String env = System.getenv("RESA_DATA_DIR");
    if (env != null && !env.isBlank()) return Path.of(env);
    Path cwd = Path.of("").toAbsolutePath();
    for (Path p = cwd; p != null; p = p.getParent()) {
      Path candidate = p.resolve("shared/data");
      if (Files.isDirectory(candidate)) return candidate;
      Path sibling = p.resolveSibling("shared").resolve("data");
      if (Files.isDirectory(sibling)) return sibling;
    }
    return cwd.resolveSibling("shared").resolve("data");
  }

  /** The configured data directory; fails with a message naming every place that was tried. */
  public static Path require(Path explicit) {
    Path dir = resolve(explicit);
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException(
          "data directory not found: " + dir.toAbsolutePath()
              + " (set --data-dir, -Dresa.dataDir or RESA_DATA_DIR to the folder that holds math500/, aime24/, models/ ...)");
    }
    return dir;
  }
}
