package dev.resa.miniature;

import dev.resa.miniature.Miniature.Model;
import dev.resa.miniature.Miniature.SaeMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import tech.tablesaw.api.Table;

/** A finished run's tables, read back from its directory (what notebooks use). */
public record RunResult(Path dir, Table scores, Table costs, Table saes, String report) {
  public static RunResult load(Path dir) throws IOException {
    return new RunResult(dir, Table.read().csv(dir.resolve("scores.csv").toString()), Table.read().csv(dir.resolve("costs.csv").toString()),
        Table.read().csv(dir.resolve("saes.csv").toString()), Files.readString(dir.resolve("report.md")));
  }

  /** The step log of a stage: {@code base}, {@code source}, {@code sae/scratch}, {@code tuned/resa}, ... */
  public Table log(String stage) throws IOException {
    return Table.read().csv(dir.resolve(stage).resolve("train.csv").toString()).setName(stage);
  }

  /** The validation search behind a run made with one ({@link Miniature#run(Preset, Path, boolean, long, Search.Space)}), else null. */
  public Search.Pick search() throws IOException {
    return Search.load(dir);
  }

  /** The preset the run was made with. */
  public Preset preset() throws IOException {
    return Preset.ofRun(dir);
  }

  /** One text's tokens and the SAE latent activations on them ({@code acts[token][latent]}). */
  public record FeatureActivations(List<String> tokens, float[][] acts) {}

  /** Latent activations of the Stage-I SAE {@code mode} on {@code model}'s residual stream at the hook layer. */
  public FeatureActivations featureActivations(SaeMode mode, Model model, String prompt, String completion) throws IOException {
    return Features.activations(dir, preset().hookLayer(), mode, model, prompt, completion);
  }

  /** Per-latent firing frequency of a Stage-I SAE on its training activations. */
  public double[] density(SaeMode mode) throws IOException {
    return RunCache.GSON.fromJson(Files.readString(dir.resolve(mode.dir()).resolve("density.json")), double[].class);
  }
}
