package dev.resa.kernel;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Line magics and the cell structure around them. A line starting with {@code %} is a magic; the Java between
 * magics runs as ordinary code, in order. A cell starting with {@code %%time} is timed as a whole.
 *
 * <ul>
 *   <li>{@code %classpath <jar|dir|dir/*|glob> ...}: make jars or class folders visible to later code.
 *   <li>{@code %load <file.jsh>}: run a file of Java snippets (magics allowed) as if it were this cell.
 *   <li>{@code %time <code>}: run the rest of the line and print its wall time; {@code %%time} does the whole cell.
 *   <li>{@code %maven group:artifact:version ...}: resolve artifacts and their runtime dependencies through Maven
 *       Resolver ({@link MavenDependencies}) and add the jars; {@code %mavenRepo id url} adds a repository.
 * </ul>
 */
final class Magics {
  private final JShellEvaluator evaluator;
  private final Path workingDir;
  private final MavenDependencies maven;

  Magics(JShellEvaluator evaluator, Path workingDir) {
    this(evaluator, workingDir, new MavenDependencies());
  }

  Magics(JShellEvaluator evaluator, Path workingDir, MavenDependencies maven) {
    this.evaluator = evaluator;
    this.workingDir = workingDir;
    this.maven = maven;
  }

  /** Runs a cell; returns the value of its last expression. */
  Object run(String cell, String label) {
    return run(cell, label, 0);
  }

  private Object run(String cell, String label, int depth) {
    String firstLine = cell.strip().lines().findFirst().orElse("");
    if (firstLine.startsWith("%%")) {
      String name = firstLine.substring(2).split("\\s+", 2)[0];
      if (!name.equals("time")) throw magicError("unknown cell magic %%" + name + " (known: %%time)");
      int bodyStart = cell.indexOf('\n', cell.indexOf("%%"));
      String body = bodyStart < 0 ? "" : cell.substring(bodyStart + 1);
      return timed(() -> run(body, label, 2 + JShellEvaluator.lineOf(cell, Math.max(0, bodyStart)), depth));
    }
    return run(cell, label, 1, depth);
  }

  private Object run(String cell, String label, int firstLine, int depth) {
    List<String> lines = cell.lines().toList();
    Object last = null;
    StringBuilder code = new StringBuilder();
    int codeStart = firstLine;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (!line.stripLeading().startsWith("%")) {
        if (code.isEmpty()) codeStart = firstLine + i;
        code.append(line).append('\n');
        continue;
      }
      last = flush(code, label, codeStart, last);
      last = lineMagic(line.strip().substring(1), label, firstLine + i, depth);
    }
    return flush(code, label, codeStart, last);
  }

  private Object flush(StringBuilder code, String label, int firstLine, Object last) {
    if (code.toString().isBlank()) {
      code.setLength(0);
      return last;
    }
    Object v = evaluator.evalCell(code.toString(), label, firstLine);
    code.setLength(0);
    return v;
  }

  private Object lineMagic(String text, String label, int line, int depth) {
    String[] parts = text.split("\\s+", 2);
    String name = parts[0].toLowerCase(Locale.ROOT);
    String args = parts.length > 1 ? parts[1].strip() : "";
    switch (name) {
      case "classpath" -> {
        List<String> entries = classpathEntries(args);
        evaluator.addToClasspath(entries);
        System.out.println("Added to the classpath: " + String.join(", ", entries));
        return null;
      }
      case "load" -> {
        if (args.isEmpty()) throw magicError("%load needs a file, e.g. %load setup.jsh");
        if (depth > 8) throw magicError("%load nested too deeply (a file loading itself?)");
        Path file = workingDir.resolve(unquote(args)).normalize();
        String source;
        try {
          source = Files.readString(file);
        } catch (IOException e) {
          throw magicError("%load: cannot read " + file + ": " + e.getMessage());
        }
        return run(source, file.getFileName().toString(), 1, depth + 1);
      }
      case "maven" -> {
        if (args.isEmpty()) throw magicError("%maven needs coordinates, e.g. %maven org.apache.commons:commons-lang3:3.17.0");
        for (String coordinate : args.split("\\s+")) addMaven(coordinate);
        return null;
      }
      case "mavenrepo" -> {
        String[] idUrl = args.split("\\s+");
        if (idUrl.length != 2) throw magicError("%mavenRepo needs an id and a URL, e.g. %mavenRepo mine https://example.org/maven2");
        try {
          maven.addRepository(idUrl[0], idUrl[1]);
        } catch (IllegalArgumentException e) {
          throw magicError("%mavenRepo: " + e.getMessage());
        }
        System.out.println("Added Maven repository " + idUrl[0] + ": " + idUrl[1]);
        return null;
      }
      case "time" -> {
        if (args.isEmpty()) throw magicError("%time needs code, e.g. %time model.forward(x)");
        return timed(() -> evaluator.evalCell(args, label, line));
      }
      default -> throw magicError("unknown magic %" + name + " at " + label + " line " + line
          + " (known: %classpath, %maven, %mavenRepo, %load, %time, %%time)");
    }
  }

  private void addMaven(String coordinate) {
    List<MavenDependencies.Resolved> jars;
    try {
      jars = maven.resolve(coordinate);
    } catch (RuntimeException e) {
      throw magicError(e.getMessage());
    }
    evaluator.addToClasspath(jars.stream().map(r -> r.jar().toString()).toList());
    for (MavenDependencies.Resolved r : jars) {
      String from = r.from().equals("local") ? "local cache ~/.m2" : "downloaded from " + r.from();
      System.out.println("Added " + r.coordinate() + " (" + from + ")");
    }
  }

  private static Object timed(java.util.function.Supplier<Object> body) {
    long t0 = System.nanoTime();
    try {
      return body.get();
    } finally {
      double ms = (System.nanoTime() - t0) / 1e6;
      System.out.println(ms < 1000 ? String.format(Locale.ROOT, "Wall time: %.1f ms", ms)
          : String.format(Locale.ROOT, "Wall time: %.2f s", ms / 1000));
    }
  }

  /** Expands {@code %classpath} arguments: files, folders, {@code dir/*} (every jar in dir) and globs. */
  List<String> classpathEntries(String args) {
    List<String> out = new ArrayList<>();
    for (String raw : args.split("[\\s" + java.io.File.pathSeparator + "]+")) {
      if (raw.isBlank()) continue;
      String arg = unquote(raw);
      if (arg.startsWith("~/")) arg = System.getProperty("user.home") + arg.substring(1);
      if (arg.contains("*") || arg.contains("?") || arg.contains("[")) {
        int cut = firstGlobChar(arg);
        int slash = arg.lastIndexOf('/', cut);
        Path dir = workingDir.resolve(slash < 0 ? "." : arg.substring(0, Math.max(slash, 1))).normalize();
        String pattern = arg.endsWith("/*") && slash == arg.length() - 2 ? "*.jar" : arg.substring(slash + 1);
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        List<String> matched = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
          for (Path p : ds) if (m.matches(p.getFileName())) matched.add(p.toString());
        } catch (IOException e) {
          throw magicError("%classpath: cannot list " + dir + ": " + e.getMessage());
        }
        if (matched.isEmpty()) throw magicError("%classpath: nothing matches " + arg + " in " + dir);
        matched.sort(null);
        out.addAll(matched);
      } else {
        Path p = workingDir.resolve(arg).normalize();
        if (!Files.exists(p)) throw magicError("%classpath: no such file or folder: " + p);
        out.add(p.toString());
      }
    }
    if (out.isEmpty()) throw magicError("%classpath needs at least one jar or folder");
    return out;
  }

  private static int firstGlobChar(String s) {
    for (int i = 0; i < s.length(); i++) if ("*?[".indexOf(s.charAt(i)) >= 0) return i;
    return s.length();
  }

  private static String unquote(String s) {
    return s.length() >= 2 && (s.startsWith("\"") && s.endsWith("\"") || s.startsWith("'") && s.endsWith("'"))
        ? s.substring(1, s.length() - 1) : s;
  }

  private static CellError magicError(String message) {
    return new CellError.MagicError(message);
  }
}
