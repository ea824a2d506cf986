package dev.resa.eval;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.resa.core.DataDir;
import java.nio.file.Files;
import java.nio.file.Path;

/** The shared offline data folder; tests that need it skip with a reason when it is absent (CI has it). */
final class TestData {
  private TestData() {}

  static Path dir() {
    Path d = DataDir.resolve(null);
    assumeTrue(Files.isDirectory(d.resolve("math500")), "offline data not found at " + d + " (set -Dresa.dataDir)");
    return d;
  }
}
