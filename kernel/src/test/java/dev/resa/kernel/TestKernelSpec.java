package dev.resa.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resa.cli.KernelSpec;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The kernelspec tests run through Jupyter: the real kernel jar, resa-lib and its dependencies, RESA_CI=1. */
final class TestKernelSpec {
  private TestKernelSpec() {}

  /** Writes {@code <jupyterData>/kernels/<name>/kernel.json} for the built kernel jar. */
  static KernelSpec install(String name, Path jupyterData) throws IOException {
    Path kernelJar = Path.of(System.getProperty("resa.kernelJar"));
    assertTrue(Files.isRegularFile(kernelJar), "kernel jar not built: " + kernelJar);
    List<String> classpath = new ArrayList<>();
    classpath.add(kernelJar.toString());
    String libs = Files.readString(Path.of(System.getProperty("resa.libClasspathFile"))).strip();
    for (String e : libs.split(File.pathSeparator)) if (!e.isBlank()) classpath.add(e);
    KernelSpec spec = new KernelSpec(name, "Java (Resa, test)",
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        KernelSpec.DEFAULT_JVM_OPTIONS, classpath, KernelSpec.env(Map.of("RESA_CI", "1")));
    spec.install(jupyterData);
    return spec;
  }
}
