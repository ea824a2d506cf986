package dev.resa.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The PyTorch side of a bench: Debian's {@code python3} with {@code torch} (python3-torch) running one of the
 * scripts bundled under {@code resources/bench/}, an independent implementation that is never part of the product.
 * Each script takes its settings as arguments and prints its measurements as one JSON object on its last stdout line.
 *
 * <p>{@link #require} is called before any Java timing, so a missing torch fails in a second with a one-line
 * message saying how to install it, instead of after minutes of measurement. Nothing is installed from here.
 */
public final class TorchReference {
  /** Debian's interpreter, the one python3-torch installs into. */
  public static final String DEFAULT_PYTHON = "/usr/bin/python3";

  /** Modules the scripts share (grouped-query attention of the two decoder references). */
  private static final List<String> MODULES = List.of("gqa.py");

  private final String python;
  private final String version;

  private TorchReference(String python, String version) {
    this.python = python;
    this.version = version;
  }

  /**
   * A reference that runs on {@code python}; fails with an {@link IllegalStateException} whose one-line message says
   * what is missing and how to install it (or to skip the reference with {@code --no-torch}).
   */
  public static TorchReference require(String python) throws InterruptedException {
    String how = "install it with: apt-get install python3-torch (Debian/Ubuntu), or pass --no-torch to skip the PyTorch reference";
    List<String> probe = List.of(python, "-c", "import torch; print(torch.__version__)");
    Process p;
    try {
      p = new ProcessBuilder(probe).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IllegalStateException("the PyTorch reference needs python3 with torch, but " + python + " does not run ("
          + e.getMessage() + "); " + how);
    }
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      out = e.getMessage();
    }
    if (p.waitFor() != 0) {
      throw new IllegalStateException("the PyTorch reference needs torch, but 'import torch' fails in " + python + " ("
          + lastLine(out) + "); " + how);
    }
    return new TorchReference(python, lastLine(out));
  }

  /** The torch version the interpreter reported, e.g. {@code 1.13.1}. */
  public String version() {
    return version;
  }

  /**
   * Runs the bundled script {@code /bench/<script>} with {@code args} (its stderr goes to ours) and returns the JSON
   * object on its last stdout line. The script runs from a temporary folder that also holds the bundled
   * {@link #MODULES} it may import.
   */
  public JsonObject run(String script, List<String> args) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("resa-" + script.replace(".py", "") + "-");
    List<Path> written = new ArrayList<>();
    try {
      for (String name : MODULES) written.add(bundled(name, dir));
      Path file = bundled(script, dir);
      written.add(file);
      List<String> cmd = new ArrayList<>(List.of(python, file.toString()));
      cmd.addAll(args);
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      String out;
      try (InputStream in = p.getInputStream()) {
        out = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
      } finally {
        if (Thread.currentThread().isInterrupted()) p.destroy();
      }
      int code = p.waitFor();
      if (code != 0) throw new IOException(script + " (the PyTorch reference) failed with exit code " + code + "; its stderr is above");
      try {
        return JsonParser.parseString(lastLine(out)).getAsJsonObject();
      } catch (JsonParseException | IllegalStateException e) {
        throw new IOException(script + ": last output line is not a JSON object: " + lastLine(out));
      }
    } finally {
      for (Path f : written) Files.deleteIfExists(f);
      Files.deleteIfExists(dir);
    }
  }

  /** Writes the bundled {@code /bench/<name>} into {@code dir}. */
  private static Path bundled(String name, Path dir) throws IOException {
    Path file = dir.resolve(name);
    try (InputStream in = TorchReference.class.getResourceAsStream("/bench/" + name)) {
      if (in == null) throw new IOException("resource /bench/" + name + " is missing from the classpath");
      Files.write(file, in.readAllBytes());
    }
    return file;
  }

  private static String lastLine(String text) {
    String s = text.strip();
    return s.substring(s.lastIndexOf('\n') + 1);
  }
}
