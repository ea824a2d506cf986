package dev.resa.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every notebook in {@code <repo>/notebooks} headless through Jupyter with the real kernel jar, then renders one
 * in headless Chromium (network-free) and checks that plotly drew its chart.
 *
 * <p>Needs Debian's jupyter-notebook, jupyter-nbconvert, python3-nbclient, python3-ipykernel and chromium; without
 * them the test FAILS, unless {@code -Dresa.skipNotebooks=true} is given explicitly. Notebooks run with
 * {@code RESA_CI=1} (their shrunk form). A cell may only fail when it is tagged {@code raises-exception}, and then it
 * must fail. Executed notebooks, their HTML and a screenshot go to {@code kernel/target/ci-artifacts/}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NotebookExecutionTest {
  private static final String KERNEL = "resa-java-test";
  private static final String PLOTLY_MIME = "application/vnd.plotly.v1+json";
  private static final long CELL_TIMEOUT_S = 900;
  private static final String BROWSER_NOTEBOOK = "kernel-tour";

  private final Path repo = Path.of(System.getProperty("resa.repo", "..")).toAbsolutePath().normalize();
  private final Path artifacts = repo.resolve("kernel/target/ci-artifacts");
  private final Map<String, Path> executed = new ConcurrentHashMap<>();
  @TempDir static Path work; // Jupyter's config, runtime and data folders and the test kernelspec; deleted after the class
  private Path jupyterData;

  @BeforeAll
  void installKernel() throws Exception {
    Assumptions.assumeFalse(Boolean.getBoolean("resa.skipNotebooks"),
        "notebook execution explicitly skipped with -Dresa.skipNotebooks=true");
    requireTool(List.of("jupyter", "nbconvert", "--version"),
        "jupyter nbconvert is missing: apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient "
            + "python3-ipykernel (or pass -Dresa.skipNotebooks=true to skip explicitly)");
    requireTool(List.of(chromium(), "--version"),
        "chromium is missing: apt-get install chromium (or pass -Dresa.skipNotebooks=true to skip explicitly)");
    jupyterData = work.resolve("share/jupyter");
    TestKernelSpec.install(KERNEL, jupyterData);
    Files.createDirectories(artifacts);
  }

  @TestFactory
  Stream<DynamicTest> everyNotebookRunsHeadless() throws IOException {
    List<Path> notebooks;
    try (Stream<Path> s = Files.list(repo.resolve("notebooks"))) {
      notebooks = s.filter(p -> p.toString().endsWith(".ipynb")).sorted().toList();
    }
    assertFalse(notebooks.isEmpty(), "no notebooks in " + repo.resolve("notebooks"));
    return notebooks.stream().map(nb -> DynamicTest.dynamicTest(nb.getFileName().toString(), () -> checkNotebook(nb)));
  }

  private void checkNotebook(Path notebook) throws Exception {
    Path out = execute(notebook);
    JsonObject nb = JsonParser.parseString(Files.readString(out)).getAsJsonObject();
    List<String> problems = new ArrayList<>();
    int plotly = 0;
    JsonArray cells = nb.getAsJsonArray("cells");
    for (int i = 0; i < cells.size(); i++) {
      JsonObject cell = cells.get(i).getAsJsonObject();
      if (!cell.get("cell_type").getAsString().equals("code")) continue;
      boolean mayFail = tags(cell).contains("raises-exception");
      boolean failed = false;
      for (JsonElement o : cell.getAsJsonArray("outputs")) {
        JsonObject output = o.getAsJsonObject();
        if (output.get("output_type").getAsString().equals("error")) {
          failed = true;
          if (!mayFail) {
            problems.add("cell " + i + " failed: " + output.get("ename").getAsString() + ": "
                + output.get("evalue").getAsString());
          }
        }
        if (output.has("data") && output.getAsJsonObject("data").has(PLOTLY_MIME)) plotly++;
      }
      if (mayFail && !failed) problems.add("cell " + i + " is tagged raises-exception but did not fail");
    }
    assertTrue(problems.isEmpty(), notebook.getFileName() + ":\n" + String.join("\n", problems));
    assertTrue(plotly >= 1, notebook.getFileName() + " has no plotly output (" + PLOTLY_MIME + ")");
  }

  @Test
  void chromiumDrawsThePlotlyChartOffline() throws Exception {
    Path notebook = repo.resolve("notebooks/" + BROWSER_NOTEBOOK + ".ipynb");
    assertTrue(Files.isRegularFile(notebook), "missing " + notebook);
    Path out = execute(notebook);
    assertOneLiveTrainingOutput(out);
    run(List.of("jupyter", "nbconvert", "--to", "html", "--output-dir", artifacts.toString(),
        "--output", BROWSER_NOTEBOOK, out.toString()), repo, artifacts.resolve("nbconvert-html.log"), 300);
    Path html = artifacts.resolve(BROWSER_NOTEBOOK + ".html");
    assertTrue(Files.isRegularFile(html), "nbconvert wrote no " + html);

    Path dom = artifacts.resolve(BROWSER_NOTEBOOK + ".dom.html");
    run(chromiumCommand("--dump-dom", html), repo, dom, 180);
    String page = Files.readString(dom);
    assertTrue(page.contains("class=\"main-svg\""),
        "plotly drew no chart (no <svg class=\"main-svg\"> in Chromium's DOM, see " + dom + ")");

    Path png = artifacts.resolve(BROWSER_NOTEBOOK + ".png");
    Files.deleteIfExists(png);
    run(chromiumCommand("--screenshot=" + png, html, "--hide-scrollbars", "--window-size=1280,4000"), repo,
        artifacts.resolve("chromium-screenshot.log"), 180);
    assertTrue(Files.size(png) > 10_000, "screenshot missing or empty: " + png);
  }

  /** The tour's training loop left exactly one progress output, updated in place to its final state. */
  private static void assertOneLiveTrainingOutput(Path executedNotebook) throws IOException {
    String text = Files.readString(executedNotebook);
    JsonObject nb = JsonParser.parseString(text).getAsJsonObject();
    int progress = 0;
    for (JsonElement c : nb.getAsJsonArray("cells")) {
      JsonArray outputs = c.getAsJsonObject().getAsJsonArray("outputs");
      if (outputs == null) continue;
      for (JsonElement o : outputs) {
        JsonObject data = o.getAsJsonObject().getAsJsonObject("data");
        if (data == null || !data.has("text/plain")) continue;
        String plain = String.join("", data.get("text/plain").isJsonArray()
            ? data.getAsJsonArray("text/plain").asList().stream().map(JsonElement::getAsString).toList()
            : List.of(data.get("text/plain").getAsString()));
        if (plain.startsWith("linear regression ")) {
          progress++;
          assertTrue(plain.contains("done") && plain.contains("loss="), "final state shown: " + plain);
        }
      }
    }
    assertEquals(1, progress, "one live training output, updated in place");
  }

  /** Executes a notebook once (cached for this run); fails with nbconvert's log if the run fails. */
  private Path execute(Path notebook) throws Exception {
    String name = notebook.getFileName().toString().replace(".ipynb", "");
    if (executed.containsKey(name)) return executed.get(name);
    Path outDir = artifacts.resolve("executed");
    Files.createDirectories(outDir);
    Path log = artifacts.resolve(name + ".nbconvert.log");
    // No --allow-errors: an unexpected error stops the run; cells tagged raises-exception may fail.
    run(List.of("jupyter", "nbconvert", "--to", "notebook", "--execute",
            "--ExecutePreprocessor.kernel_name=" + KERNEL, "--ExecutePreprocessor.timeout=" + CELL_TIMEOUT_S,
            "--output-dir", outDir.toString(), "--output", name, notebook.toString()),
        notebook.getParent(), log, 3 * CELL_TIMEOUT_S);
    Path out = outDir.resolve(name + ".ipynb");
    assertTrue(Files.isRegularFile(out), "nbconvert wrote no " + out);
    executed.put(name, out);
    return out;
  }

  private void run(List<String> command, Path dir, Path log, long timeoutSeconds) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("JUPYTER_PATH", jupyterData.toString());
    env.put("JUPYTER_CONFIG_DIR", work.resolve("config").toString());
    env.put("JUPYTER_RUNTIME_DIR", work.resolve("runtime").toString());
    env.put("JUPYTER_DATA_DIR", work.resolve("data").toString()); // the kernel's input history goes there
    env.put("RESA_CI", "1");
    env.put("PYDEVD_DISABLE_FILE_VALIDATION", "1");
    Process p = pb.start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      fail("timed out after " + timeoutSeconds + " s: " + String.join(" ", command) + "\n" + tail(log));
    }
    assertEquals(0, p.exitValue(), "failed: " + String.join(" ", command) + "\n" + tail(log));
  }

  private List<String> chromiumCommand(String action, Path html, String... extra) throws IOException {
    Path profile = Files.createTempDirectory(work, "chromium-profile");
    List<String> cmd = new ArrayList<>(List.of(chromium(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--user-data-dir=" + profile, "--virtual-time-budget=20000"));
    cmd.addAll(List.of(extra));
    cmd.add(action);
    cmd.add(html.toUri().toString());
    return cmd;
  }

  private static String chromium() {
    return System.getProperty("resa.chromium", "chromium");
  }

  private static void requireTool(List<String> command, String message) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) fail(message);
    } catch (IOException | InterruptedException e) {
      fail(message + " (" + e.getMessage() + ")");
    }
  }

  private static List<String> tags(JsonObject cell) {
    List<String> tags = new ArrayList<>();
    JsonObject meta = cell.getAsJsonObject("metadata");
    if (meta != null && meta.has("tags")) meta.getAsJsonArray("tags").forEach(t -> tags.add(t.getAsString()));
    return tags;
  }

  private static String tail(Path log) throws IOException {
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }
}
