package dev.resa.kernel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.maven.model.interpolation.ModelInterpolator;
import org.eclipse.aether.RepositorySystem;
import org.eclipse.aether.RepositorySystemSession;
import org.eclipse.aether.artifact.DefaultArtifact;
import org.eclipse.aether.collection.CollectRequest;
import org.eclipse.aether.graph.Dependency;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.resolution.ArtifactResult;
import org.eclipse.aether.resolution.DependencyRequest;
import org.eclipse.aether.resolution.DependencyResolutionException;
import org.eclipse.aether.supplier.RepositorySystemSupplier;
import org.eclipse.aether.supplier.SessionBuilderSupplier;
import org.eclipse.aether.util.artifact.JavaScopes;
import org.eclipse.aether.util.filter.DependencyFilterUtils;

/**
 * {@code %maven group:artifact[:extension[:classifier]]:version}: resolves an artifact and its runtime dependencies
 * with Maven Resolver (the library Maven itself uses: POM parents, BOMs, version ranges, checksums), using the user's
 * {@code ~/.m2/repository} as the cache, so anything Maven already downloaded resolves offline. Repositories: Maven
 * Central (Maven's own default URL, or {@code -Dmaven.repo.central}) plus those added with {@code %mavenRepo id url}.
 * {@code RESA_MAVEN_OFFLINE=1} resolves from the cache only.
 */
final class MavenDependencies {
  private final Map<String, RemoteRepository> repositories = new LinkedHashMap<>();
  private final Path localRepository;
  private RepositorySystem system;

  MavenDependencies() {
    this(Path.of(System.getProperty("maven.repo.local",
        Path.of(System.getProperty("user.home"), ".m2", "repository").toString())));
  }

  MavenDependencies(Path localRepository) {
    this.localRepository = localRepository;
    String central = System.getProperty(ModelInterpolator.MAVEN_REPO_CENTRAL_KEY,
        ModelInterpolator.DEFAULT_MAVEN_REPO_CENTRAL_URL);
    addRepository("central", central);
  }

  /** Adds (or replaces) a remote repository, e.g. {@code %mavenRepo jitpack https://...}. */
  void addRepository(String id, String url) {
    if (!id.matches("[A-Za-z0-9._-]+")) throw new IllegalArgumentException("repository id must match [A-Za-z0-9._-]+: " + id);
    if (!url.matches("(?i)(https?|file)://.+")) throw new IllegalArgumentException("repository URL must be http(s):// or file://: " + url);
    repositories.put(id, new RemoteRepository.Builder(id, "default", url).build());
  }

  /** Resolved jars of {@code coordinate} and its runtime dependencies, in classpath order. */
  List<Resolved> resolve(String coordinate) {
    DefaultArtifact artifact;
    try {
      artifact = new DefaultArtifact(coordinate);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("%maven: '" + coordinate + "' is not group:artifact[:extension[:classifier]]:version");
    }
    if (system == null) system = new RepositorySystemSupplier().get();
    boolean offline = "1".equals(System.getenv("RESA_MAVEN_OFFLINE")) || "true".equals(System.getenv("RESA_MAVEN_OFFLINE"));
    try (RepositorySystemSession.CloseableSession session = new SessionBuilderSupplier(system).get()
        .withLocalRepositoryBaseDirectories(localRepository)
        .setOffline(offline)
        .setSystemProperties(System.getProperties())
        .build()) {
      CollectRequest collect = new CollectRequest(new Dependency(artifact, JavaScopes.RUNTIME),
          new ArrayList<>(repositories.values()));
      DependencyRequest request = new DependencyRequest(collect, DependencyFilterUtils.classpathFilter(JavaScopes.RUNTIME));
      List<Resolved> jars = new ArrayList<>();
      for (ArtifactResult r : system.resolveDependencies(session, request).getArtifactResults()) {
        String from = r.getRepository() == null ? "?" : r.getRepository().getId();
        jars.add(new Resolved(r.getArtifact().toString(), r.getArtifact().getPath(), from));
      }
      return jars;
    } catch (DependencyResolutionException e) {
      throw new IllegalStateException("%maven: cannot resolve " + coordinate + " from " + repositories.keySet()
          + (offline ? " (offline: RESA_MAVEN_OFFLINE is set)" : "") + ": " + rootMessage(e));
    }
  }

  /**
   * One resolved jar; {@code from} is the repository id it came from, or the local cache's id when it was already
   * in {@code ~/.m2} (Maven Resolver reports the local repository then).
   */
  record Resolved(String coordinate, Path jar, String from) {}

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    String m = t.getMessage();
    return m == null ? t.toString() : m;
  }
}
