package dev.resa.miniature;

import java.io.IOException;
import java.nio.file.Path;
import tech.tablesaw.api.Table;

/** Standalone HTML plots of a run (losses, FVU/L0, accuracies, feature density) under {@code plots/}. */
final class RunPlots {
  private RunPlots() {}

  static void write(Path dir, Table scores, Table saes) throws IOException {
    // filled in once dev.resa.viz lands on main
  }
}
