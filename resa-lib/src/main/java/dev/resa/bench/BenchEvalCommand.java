package dev.resa.bench;

import dev.resa.cli.DataDirOption;
import dev.resa.eval.Answers;
import dev.resa.eval.Benchmark;
import dev.resa.eval.Equivalence;
import dev.resa.eval.Grader;
import dev.resa.eval.Problem;
import java.io.PrintWriter;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./resa bench eval}: answers checked per second on MATH500 (the boxed answer of each solution against the
 * answer field, and answers of different problems), with and without the timeout wrapper.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Answer checks per second on the MATH500 pairs.")
public final class BenchEvalCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin DataDirOption dataDir;

  @Option(names = "--rounds", defaultValue = "5", description = "Timed passes over the pairs after one warm-up (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    List<Problem> math = Benchmark.MATH500.load(dataDir.require());
    int n = math.size();
    String[] preds = new String[2 * n], refs = new String[2 * n];
    Random rng = new Random(1);
    for (int i = 0; i < n; i++) {
      preds[i] = Answers.lastBoxed(math.get(i).solution()).orElse("");
      refs[i] = math.get(i).answers().get(0);
      preds[n + i] = math.get(rng.nextInt(n)).answers().get(0); // mostly unequal pairs
      refs[n + i] = refs[i];
    }
    Grader grader = new Grader();
    int equal = 0;
    for (int i = 0; i < preds.length; i++) if (Equivalence.equal(preds[i], refs[i])) equal++;
    double direct = 0, wrapped = 0;
    for (int pass = 0; pass < 2; pass++) { // the first pass finishes JIT compilation; the second is reported
      long t0 = System.nanoTime();
      for (int r = 0; r < rounds; r++) for (int i = 0; i < preds.length; i++) Equivalence.equal(preds[i], refs[i]);
      direct = (System.nanoTime() - t0) / 1e9;
      long t1 = System.nanoTime();
      for (int r = 0; r < rounds; r++) for (int i = 0; i < preds.length; i++) grader.equal(preds[i], refs[i]);
      wrapped = (System.nanoTime() - t1) / 1e9;
    }
    long checks = (long) rounds * preds.length;
    out.printf("MATH500 pairs: %d (500 solution-vs-answer, 500 random), %d judged equal%n", preds.length, equal);
    out.printf("Equivalence.equal          : %,.0f answers/s (%.1f us each)%n", checks / direct, direct / checks * 1e6);
    out.printf("Grader.equal (5 s timeout) : %,.0f answers/s (%.1f us each)%n", checks / wrapped, wrapped / checks * 1e6);
    out.flush();
    return 0;
  }
}
