package dev.resa.cli;

import ai.djl.Device;
import dev.resa.core.Djl;
import picocli.CommandLine.Option;

/** The {@code --device} option of {@code eval}, {@code generate} and {@code train-lm}; each command picks the default. */
final class DeviceOption {
  @Option(names = "--device", paramLabel = "DEVICE", description = "cpu, cuda, cuda:N or auto (default: ${DEFAULT-VALUE}).")
  String name;

  /** {@code --device} defaulting to {@code name}. */
  DeviceOption(String name) {
    this.name = name;
  }

  Device device() {
    return Djl.parseDevice(name);
  }
}
