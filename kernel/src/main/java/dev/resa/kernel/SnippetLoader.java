package dev.resa.kernel;

import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jdk.jshell.execution.LoaderDelegate;
import jdk.jshell.spi.ExecutionControl.ClassBytecodes;
import jdk.jshell.spi.ExecutionControl.ClassInstallException;
import jdk.jshell.spi.ExecutionControl.InternalException;

/**
 * Class loader for notebook code, in the kernel's own JVM: defines the classes JShell compiles for each snippet and
 * takes the jars added with {@code %classpath}. Its parent is the kernel's application loader, so notebook code sees
 * resa-lib and its dependencies directly (the kernel's own libraries are relocated out of the way in its jar).
 */
final class SnippetLoader implements LoaderDelegate {
  private final Loader loader = new Loader(SnippetLoader.class.getClassLoader());
  private final Map<String, Class<?>> loaded = new ConcurrentHashMap<>();

  ClassLoader classLoader() {
    return loader;
  }

  @Override
  public void load(ClassBytecodes[] classes) throws ClassInstallException {
    boolean[] installed = new boolean[classes.length];
    for (ClassBytecodes c : classes) loader.declare(c.name(), c.bytecodes());
    try {
      for (int i = 0; i < classes.length; i++) {
        Class<?> k = loader.loadClass(classes[i].name());
        loaded.put(classes[i].name(), k);
        installed[i] = true;
        k.getDeclaredMethods(); // link now, so a broken class fails here rather than mid-run
      }
    } catch (Throwable e) {
      throw new ClassInstallException("could not load snippet class: " + e, installed);
    }
  }

  @Override
  public void classesRedefined(ClassBytecodes[] classes) {
    for (ClassBytecodes c : classes) loader.declare(c.name(), c.bytecodes());
  }

  @Override
  public void addToClasspath(String path) throws InternalException {
    for (String entry : path.split(java.io.File.pathSeparator)) {
      if (entry.isBlank()) continue;
      try {
        loader.addURL(Path.of(entry).toAbsolutePath().toUri().toURL());
      } catch (MalformedURLException e) {
        throw new InternalException("bad classpath entry " + entry + ": " + e.getMessage());
      }
    }
  }

  @Override
  public Class<?> findClass(String name) throws ClassNotFoundException {
    Class<?> k = loaded.get(name);
    return k != null ? k : loader.loadClass(name);
  }

  /** Defines declared snippet classes first, then the %classpath jars, after the parent (parent-first). */
  private static final class Loader extends URLClassLoader {
    static {
      registerAsParallelCapable();
    }

    private final Map<String, byte[]> declared = new ConcurrentHashMap<>();

    Loader(ClassLoader parent) {
      super("resa-notebook", new URL[0], parent);
    }

    void declare(String name, byte[] bytes) {
      declared.put(name, bytes);
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
      byte[] bytes = declared.get(name);
      if (bytes != null) return defineClass(name, bytes, 0, bytes.length);
      return super.findClass(name);
    }

    @Override
    protected void addURL(URL url) {
      super.addURL(url);
    }
  }
}
