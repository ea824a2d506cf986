package dev.resa.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import dev.resa.sae.SaeTrainer;
import dev.resa.sae.SparseCoder;
import dev.resa.sae.SparseCoderConfig;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * SAE training throughput: our trainer versus a PyTorch eager implementation of the same sparsify algorithm
 * (run through {@code /usr/bin/python3}), both fp32 on this CPU, with the fraction of a measured GEMM peak of the
 * encoder's shape, counting 2dn + 8kd FLOP per token (anchors §4.2).
 */
@Command(name = "sae", mixinStandardHelpOptions = true, description = "Benchmark TopK SAE training tokens/s against PyTorch eager.")
public final class BenchSaeCommand implements Callable<Integer> {
  @Option(names = "--d", description = "input width (default ${DEFAULT-VALUE})") int d = 768;
  @Option(names = "--latents", description = "n (default ${DEFAULT-VALUE})") int n = 16384;
  @Option(names = "--k", description = "k (default ${DEFAULT-VALUE})") int k = 32;
  @Option(names = "--tokens", description = "tokens per step (default ${DEFAULT-VALUE})") int tokens = 4096;
  @Option(names = "--warmup", description = "untimed steps (default ${DEFAULT-VALUE})") int warmup = 2;
  @Option(names = "--steps", description = "timed steps (default ${DEFAULT-VALUE})") int steps = 5;
  @Option(names = "--python", description = "interpreter with torch (default ${DEFAULT-VALUE})") String python = TorchReference.DEFAULT_PYTHON;
  @Option(names = "--no-torch", description = "skip the PyTorch reference") boolean noTorch;
  @Option(names = "--threads", description = "intra-op threads for torch (default ${DEFAULT-VALUE})") int threads = 2;

  @Override
  public Integer call() throws Exception {
    TorchReference torch = noTorch ? null : TorchReference.require(python);
    SparseCoderConfig shape = SparseCoderConfig.of(d, n, k);
    double flopsPerToken = shape.trainFlopsPerToken();
    double javaTps;
    double javaGemm;
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.randomNormal(new Shape(tokens, d)); // [N, d]
      try (SaeTrainer t = new SaeTrainer(SaeTrainer.Config.resa(), SaeTrainer.fromScratch(List.of("bench"), shape, m, 42))) {
        for (int i = 0; i < warmup; i++) t.step(Map.of("bench", x));
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) t.step(Map.of("bench", x));
        javaTps = (double) tokens * steps / ((System.nanoTime() - t0) / 1e9);
        javaGemm = gemmFlops(m, t.sae("bench"));
      }
    }
    System.out.printf("SAE training, fp32, d=%d n=%d k=%d, %d tokens/step, %.3g FLOP/token (2dn + 8kd)%n", d, n, k, tokens, flopsPerToken);
    System.out.printf("  resa (DJL %s)   : %,10.0f tokens/s  = %6.1f GFLOP/s = %5.1f %% of measured GEMM peak (%.1f GFLOP/s)%n",
        "PyTorch engine", javaTps, javaTps * flopsPerToken / 1e9, 100 * javaTps * flopsPerToken / javaGemm, javaGemm / 1e9);
    if (torch == null) return 0;
    JsonObject py = torch.run("sae_torch.py", List.of("" + d, "" + n, "" + k, "" + tokens, "" + warmup, "" + steps, "" + threads));
    double pyTps = py.get("tokens_per_s").getAsDouble();
    double pyGemm = py.get("gemm_flops").getAsDouble();
    System.out.printf("  torch %s eager: %,10.0f tokens/s  = %6.1f GFLOP/s = %5.1f %% of its GEMM peak (%.1f GFLOP/s)%n",
        py.get("torch").getAsString(), pyTps, pyTps * flopsPerToken / 1e9, 100 * pyTps * flopsPerToken / pyGemm, pyGemm / 1e9);
    System.out.printf("  ratio resa / torch: %.2fx (target >= 1.2x); resa at %.0f %% of GEMM peak (target >= 50 %%)%n", javaTps / pyTps,
        100 * javaTps * flopsPerToken / javaGemm);
    return 0;
  }

  /**
   * FLOP/s of the encoder's GEMM, [N, d] x [d, n], on this engine: the better of one product over all tokens and the
   * same product in the token chunks the SAE's encoder uses, so the peak is the fastest this GEMM ran either way.
   */
  private double gemmFlops(NDManager m, SparseCoder sae) {
    try (NDManager s = m.newSubManager()) {
      NDArray a = s.randomNormal(new Shape(tokens, d));
      NDArray wT = sae.wEnc().transpose(); // [d, n], a view
      wT.attach(s);
      double best = 0;
      for (int chunk : new int[] {tokens, Math.min(tokens, sae.chunkTokens())}) {
        for (int rep = 0; rep < 4; rep++) {
          long t0 = System.nanoTime();
          for (int i = 0; i < tokens; i += chunk) {
            try (NDArray part = a.get(i + ":" + Math.min(tokens, i + chunk))) {
              part.matMul(wT).close();
            }
          }
          if (rep > 0) best = Math.max(best, 2.0 * tokens * d * n / ((System.nanoTime() - t0) / 1e9)); // rep 0 warms up
        }
      }
      return best;
    }
  }
}
