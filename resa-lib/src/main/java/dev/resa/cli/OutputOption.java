package dev.resa.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The required {@code --out} folder of the commands that train or merge a model. */
final class OutputOption {
  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
  Path dir;
}
