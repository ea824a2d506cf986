package dev.resa.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./resa kernel install|remove}: the Jupyter kernelspec for the Resa Java kernel. */
@Command(
    name = "kernel",
    mixinStandardHelpOptions = true,
    description = "Install or remove the Resa Java Jupyter kernel (JShell with resa-lib, rich display, live training).",
    subcommands = {KernelCommand.Install.class, KernelCommand.Remove.class})
public final class KernelCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Where to install: per user (default) or under a prefix. */
  static final class Target {
    @Option(names = "--user", description = "Install for the current user (the default).")
    boolean user;

    @Option(names = "--prefix", paramLabel = "P", description = "Install under P/share/jupyter/kernels instead "
        + "(then run Jupyter with JUPYTER_PATH=P/share/jupyter, or use a P that Jupyter searches, e.g. sys.prefix).")
    Path prefix;

    @Option(names = "--name", defaultValue = KernelSpec.DEFAULT_NAME, description = "Kernel name (default: ${DEFAULT-VALUE}).")
    String name;

    Path dataDir() {
      if (user && prefix != null) throw new IllegalArgumentException("give either --user or --prefix, not both");
      return KernelSpec.dataDir(prefix, System.getenv());
    }
  }

  @Command(name = "install", mixinStandardHelpOptions = true, description = "Write the kernelspec (kernel.json).")
  static final class Install implements Callable<Integer> {
    @picocli.CommandLine.Mixin Target target = new Target();

    @Option(names = "--display-name", defaultValue = "Java (Resa)", description = "Name in the launcher (default: ${DEFAULT-VALUE}).")
    String displayName;

    @Option(names = "--jvm-opt", paramLabel = "OPT", description = "A JVM option for the kernel (repeatable), e.g. "
        + "--jvm-opt=-Xmx16g. Added after the defaults (-Xmx8g, DJL offline, library logs at warn), so it wins.")
    List<String> jvmOptions = new ArrayList<>();

    @Option(names = "--java", paramLabel = "PATH", description = "java executable (default: the one running this command).")
    Path java;

    @Option(names = "--no-cds", description = "Skip the class-data-sharing archive that speeds up kernel start.")
    boolean noCds;

    @Override
    public Integer call() throws IOException {
      KernelSpec spec = installSpec(target.name, displayName, java, jvmOptions, !noCds, target.dataDir());
      Path dir = target.dataDir().resolve("kernels").resolve(spec.name());
      System.out.println("Installed kernelspec '" + spec.name() + "' (" + spec.displayName() + ") in " + dir);
      if (target.prefix != null) {
        System.out.println("Jupyter finds it with JUPYTER_PATH=" + target.dataDir());
      }
      return 0;
    }
  }

  /** Builds the spec for this checkout, writes it, and (with {@code cds}) adds a class-data-sharing archive. */
  public static KernelSpec installSpec(String name, String displayName, Path java, List<String> jvmOptions, boolean cds,
      Path dataDir) throws IOException {
    KernelSpec spec = new KernelSpec(name, displayName,
        (java != null ? java : Path.of(System.getProperty("java.home"), "bin", "java")).toString(),
        concat(KernelSpec.DEFAULT_JVM_OPTIONS, jvmOptions),
        ResaHome.kernelClasspath(ResaHome.locate()), KernelSpec.env(Map.of()));
    Path dir = spec.install(dataDir);
    if (cds) {
      Path archive = classDataArchive(spec, dir);
      if (archive != null) {
        spec = spec.withJvmOptions(List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto"));
        spec.install(dataDir);
      }
    }
    return spec;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  /**
   * Runs the kernel's warm-up once with {@code -XX:ArchiveClassesAtExit} and returns the archive (JDK 13+ dynamic
   * class-data sharing: later starts map the classes instead of loading and verifying them). Null if it failed;
   * a stale archive (other JDK, changed jars) is ignored by the JVM, so the kernel still starts.
   */
  static Path classDataArchive(KernelSpec spec, Path kernelDir) {
    Path archive = kernelDir.resolve("resa-kernel.jsa");
    List<String> cmd = new ArrayList<>(spec.withJvmOptions(List.of("-XX:ArchiveClassesAtExit=" + archive)).argv());
    cmd.set(cmd.size() - 1, "--warmup");
    System.out.println("Building a class-data-sharing archive for faster kernel starts ...");
    try {
      Files.deleteIfExists(archive);
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
      pb.environment().putAll(spec.env());
      Process p = pb.start();
      if (!p.waitFor(10, java.util.concurrent.TimeUnit.MINUTES)) {
        p.destroyForcibly();
        return null;
      }
      return p.exitValue() == 0 && Files.isRegularFile(archive) ? archive : null;
    } catch (IOException | InterruptedException e) {
      System.err.println("warning: no class-data-sharing archive (" + e.getMessage() + "); the kernel works without it");
      return null;
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true, description = "Delete the kernelspec.")
  static final class Remove implements Callable<Integer> {
    @picocli.CommandLine.Mixin Target target = new Target();

    @Override
    public Integer call() throws IOException {
      Path dataDir = target.dataDir();
      if (KernelSpec.remove(dataDir, target.name)) {
        System.out.println("Removed kernelspec '" + target.name + "' from " + dataDir.resolve("kernels"));
        return 0;
      }
      System.err.println("No kernelspec '" + target.name + "' in " + dataDir.resolve("kernels"));
      return 1;
    }
  }

  /** Finds the built jars of this checkout. */
  public static final class ResaHome {
    private ResaHome() {}

    /** The repository root: {@code -Dresa.home} (set by ./resa), else derived from where resa-lib was loaded. */
    public static Path locate() {
      String prop = System.getProperty("resa.home");
      if (prop != null && !prop.isBlank()) return Path.of(prop).toAbsolutePath().normalize();
      try {
        // .../resa-lib/target/classes or .../resa-lib/target/resa-lib-<v>.jar
        Path codeSource = Path.of(KernelCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        for (Path p = codeSource; p != null; p = p.getParent()) {
          if (Files.isDirectory(p.resolve("resa-lib")) && Files.isDirectory(p.resolve("kernel"))) return p;
        }
      } catch (Exception e) {
        // fall through to the error below
      }
      throw new IllegalStateException("cannot locate the Resa checkout; run through ./resa or pass -Dresa.home=<repo>");
    }

    /** Kernel jar, resa-lib jar, resa-lib's runtime dependencies; fails naming the build command if one is missing. */
    static List<String> kernelClasspath(Path home) throws IOException {
      Path kernelJar = newestJar(home.resolve("kernel/target"), "resa-kernel-");
      Path libJar = newestJar(home.resolve("resa-lib/target"), "resa-lib-");
      Path lib = home.resolve("resa-lib/target/lib");
      if (kernelJar == null || libJar == null || !Files.isDirectory(lib)) {
        throw new IllegalStateException("the kernel is not built in " + home + " (need kernel/target/resa-kernel-*.jar, "
            + "resa-lib/target/resa-lib-*.jar and resa-lib/target/lib/); build with: mvn -B -pl kernel -am -DskipTests package");
      }
      return List.of(kernelJar.toString(), libJar.toString(), lib + "/*");
    }

    private static Path newestJar(Path dir, String prefix) throws IOException {
      if (!Files.isDirectory(dir)) return null;
      try (Stream<Path> s = Files.list(dir)) {
        return s.filter(p -> {
              String n = p.getFileName().toString();
              return n.startsWith(prefix) && n.endsWith(".jar") && !n.endsWith("-sources.jar") && !n.endsWith("-tests.jar");
            })
            .max((a, b) -> Long.compare(a.toFile().lastModified(), b.toFile().lastModified())).orElse(null);
      }
    }
  }
}
