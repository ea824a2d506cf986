package dev.resa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kernel.json contents, install/remove, and where Jupyter looks. */
class KernelSpecTest {
  @Test
  void installWritesAKernelJsonJupyterCanStart(@TempDir Path dir) throws Exception {
    KernelSpec spec = new KernelSpec("resa-java", "Java (Resa)", "/opt/jdk/bin/java", List.of("-Xmx2g"),
        List.of("/r/kernel.jar", "/r/resa-lib.jar", "/r/lib/*"), KernelSpec.env(Map.of("EXTRA", "1")));
    Path data = KernelSpec.dataDir(dir, Map.of());
    assertEquals(dir.resolve("share/jupyter"), data);
    Path kernelDir = spec.install(data);
    JsonObject json = JsonParser.parseString(Files.readString(kernelDir.resolve("kernel.json"))).getAsJsonObject();
    List<String> argv = json.getAsJsonArray("argv").asList().stream().map(e -> e.getAsString()).toList();
    assertEquals(List.of("/opt/jdk/bin/java", "--add-opens", "jdk.jshell/jdk.jshell=ALL-UNNAMED", "-Xmx2g", "-cp",
        "/r/kernel.jar:/r/resa-lib.jar:/r/lib/*", "dev.resa.kernel.KernelMain", "{connection_file}"), argv);
    assertEquals("message", json.get("interrupt_mode").getAsString(), "signal would kill the JVM");
    assertEquals("java", json.get("language").getAsString());
    assertEquals("1", json.getAsJsonObject("env").get("EXTRA").getAsString());
    assertEquals("true", json.getAsJsonObject("env").get("DJL_OFFLINE").getAsString());

    assertTrue(KernelSpec.remove(data, "resa-java"));
    assertFalse(Files.exists(kernelDir));
    assertFalse(KernelSpec.remove(data, "resa-java"), "removing twice reports that nothing was there");
  }

  @Test
  void userDataDirFollowsJupyterRules() {
    assertEquals(Path.of("/x/jd"), KernelSpec.dataDir(null, Map.of("JUPYTER_DATA_DIR", "/x/jd")));
    if (System.getProperty("os.name").toLowerCase().contains("linux")) {
      assertEquals(Path.of("/x/xdg/jupyter"), KernelSpec.dataDir(null, Map.of("XDG_DATA_HOME", "/x/xdg")));
      assertEquals(Path.of(System.getProperty("user.home"), ".local/share/jupyter"), KernelSpec.dataDir(null, Map.of()));
    }
  }

  @Test
  void badNamesAreRejected() {
    assertThrows(IllegalArgumentException.class,
        () -> new KernelSpec("../evil", "x", "java", List.of(), List.of("a.jar"), Map.of()));
  }
}
