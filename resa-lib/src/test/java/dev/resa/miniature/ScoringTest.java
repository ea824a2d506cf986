package dev.resa.miniature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.resa.eval.Evaluator.Sample;
import dev.resa.eval.Problem;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Per-problem scores from graded samples, checked against counts done by hand. */
class ScoringTest {
  private static Problem problem(String id) {
    return new Problem(id, "Q:" + id + "\n<think>", List.of("0"), List.of(), "");
  }

  @Test
  void perProblemScoresFollowTheTestSetOrder() {
    List<Problem> problems = List.of(problem("1+2"), problem("3*4"));
    // samples arrive in any order; "1=1.</think>" thinks (has a worked step), " 3</think>" answers directly
    List<Sample> sampled = List.of(
        new Sample("3*4", 0, "2", true, 5, "3*4=2.</think> \\boxed{2}"),
        new Sample("1+2", 0, "3", true, 5, " 3</think>"),
        new Sample("1+2", 1, "4", false, 5, "1+2=4.</think> \\boxed{4}"),
        new Sample("3*4", 1, "2", true, 5, " 2</think>"),
        new Sample("1+2", 2, "3", true, 5, " 3</think>"),
        new Sample("3*4", 2, "5", false, 5, " 5</think>"));
    List<Sample> greedy = List.of(new Sample("3*4", 0, "2", true, 5, " 2</think>"), new Sample("1+2", 0, "4", false, 5, " 4</think>"));
    ProblemScores ps = Scoring.perProblem(problems, sampled, greedy);
    assertEquals(List.of("1+2", "3*4"), ps.ids());
    assertArrayEquals(new double[] {2 / 3.0, 2 / 3.0}, ps.pass1(), 1e-12); // 1+2: right, wrong, right; 3*4: right, right, wrong
    assertArrayEquals(new double[] {0, 1}, ps.greedy(), 0);
    assertArrayEquals(new double[] {1 / 3.0, 1 / 3.0}, ps.think(), 1e-12);
  }

  @Test
  void aProblemWithoutSamplesIsAnError() {
    List<Problem> problems = List.of(problem("1+2"), problem("3*4"));
    List<Sample> sampled = List.of(new Sample("1+2", 0, "3", true, 5, " 3</think>"));
    assertThrows(IllegalStateException.class, () -> Scoring.perProblem(problems, sampled, List.of()));
  }
}
