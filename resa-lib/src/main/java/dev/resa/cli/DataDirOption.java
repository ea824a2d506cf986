package dev.resa.cli;

import dev.resa.core.DataDir;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --data-dir} option of every command that reads the offline data folder (found as {@link DataDir} says). */
public final class DataDirOption {
  @Option(names = "--data-dir", paramLabel = "DIR", description = "Offline data folder (default: resa.dataDir, RESA_DATA_DIR or ../shared/data).")
  Path dir;

  /** The folder given or found; fails naming every place that was tried. */
  public Path require() {
    return DataDir.require(dir);
  }
}
