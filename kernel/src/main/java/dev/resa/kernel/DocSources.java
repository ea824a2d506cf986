package dev.resa.kernel;

import java.io.IOException;
import java.lang.reflect.Field;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where JShell looks for Javadoc on Shift-Tab. JShell only reads Javadoc from sources, and on its own only from the
 * JDK's {@code lib/src.zip} (Debian: package openjdk-17-source). This adds the sources jars the kernel build puts in
 * {@code sources/} beside the kernel jar (resa-lib, DJL api, Tablesaw core), through JShell's
 * {@code SourceCodeAnalysisImpl.availableSourcesOverride}, the one hook it has (needs the kernelspec's
 * {@code --add-opens jdk.jshell/jdk.jshell=ALL-UNNAMED}; without it Shift-Tab shows JDK Javadoc only).
 */
final class DocSources {
  private DocSources() {}

  private static boolean installed;

  /** Installs the source roots once per JVM; returns them (empty when the hook is unavailable). */
  static synchronized List<Path> install() {
    if (installed) return List.of();
    installed = true;
    List<Path> roots = new ArrayList<>(jdkSources());
    for (Path jar : kernelSourceJars()) {
      try {
        FileSystem fs = FileSystems.newFileSystem(URI.create("jar:" + jar.toUri()), Map.of());
        roots.add(fs.getRootDirectories().iterator().next());
      } catch (IOException | RuntimeException e) {
        // an unreadable sources jar only loses its Javadoc
      }
    }
    try {
      Field f = Class.forName("jdk.jshell.SourceCodeAnalysisImpl").getDeclaredField("availableSourcesOverride");
      f.setAccessible(true);
      f.set(null, roots);
      return roots;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return List.of();
    }
  }

  /** The JDK's src.zip, one root per module (what JShell itself would use). */
  private static List<Path> jdkSources() {
    Path home = Path.of(System.getProperty("java.home"));
    Path zip = home.resolve("lib").resolve("src.zip");
    if (!Files.isReadable(zip)) zip = home.getParent().resolve("src.zip");
    if (!Files.isReadable(zip)) return List.of();
    List<Path> roots = new ArrayList<>();
    try {
      FileSystem fs = FileSystems.newFileSystem(URI.create("jar:" + zip.toUri()), Map.of());
      Path root = fs.getRootDirectories().iterator().next();
      if (Files.exists(root.resolve("java/lang/Object.java"))) return List.of(root);
      try (DirectoryStream<Path> modules = Files.newDirectoryStream(root)) {
        for (Path m : modules) if (Files.isDirectory(m)) roots.add(m);
      }
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
    return roots;
  }

  /** {@code *.jar} in {@code sources/} next to the kernel jar (or next to target/classes when run from the build). */
  static List<Path> kernelSourceJars() {
    try {
      Path code = Path.of(DocSources.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path dir = code.getParent().resolve("sources");
      if (!Files.isDirectory(dir)) return List.of();
      try (DirectoryStream<Path> jars = Files.newDirectoryStream(dir, "*.jar")) {
        List<Path> out = new ArrayList<>();
        jars.forEach(out::add);
        out.sort(null);
        return out;
      }
    } catch (Exception e) {
      return List.of();
    }
  }
}
