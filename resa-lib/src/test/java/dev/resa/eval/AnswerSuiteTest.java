package dev.resa.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Runs the answer-checking regression suite ({@code answer-suite.tsv}: rule, expected verdict, gold, completion)
 * the way {@link Evaluator} grades a completion: {@link Answers#extract} then {@link Grader#equal}. Prints the
 * agreement per rule, then asserts no false positive anywhere (a false positive is a wrong score), at least 100
 * near-miss pairs, and no miss either: it is a regression suite, a pair that stops agreeing is a regression.
 */
class AnswerSuiteTest {
  record Case(int line, String rule, boolean expected, String gold, String completion) {}

  static List<Case> load() throws IOException {
    List<Case> cases = new ArrayList<>();
    try (InputStream in = AnswerSuiteTest.class.getResourceAsStream("answer-suite.tsv")) {
      String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n");
      for (int i = 0; i < lines.length; i++) {
        String line = lines[i];
        if (line.isBlank() || line.startsWith("#")) continue;
        String[] f = line.split("\t", -1);
        if (f.length != 4 || !(f[1].equals("0") || f[1].equals("1"))) {
          throw new IllegalArgumentException("answer-suite.tsv:" + (i + 1) + ": expected rule<TAB>0|1<TAB>gold<TAB>completion");
        }
        cases.add(new Case(i + 1, f[0], f[1].equals("1"), f[2], f[3].replace("↵", "\n")));
      }
    }
    return cases;
  }

  /** The verdict Evaluator would give: extract, then compare with the gold answer. */
  static boolean verdict(Grader grader, String completion, String gold) {
    return Answers.extract(completion).map(a -> grader.equal(a, gold)).orElse(false);
  }

  @Test
  void suiteAgreesWithTheExpectedVerdictsAndHasNoFalsePositive() throws IOException {
    List<Case> cases = load();
    Grader grader = new Grader();
    Map<String, int[]> perRule = new TreeMap<>(); // rule -> {agree, total}
    List<String> falsePositives = new ArrayList<>(), misses = new ArrayList<>();
    int nearMisses = 0, agree = 0;
    for (Case c : cases) {
      boolean got = verdict(grader, c.completion(), c.gold());
      int[] n = perRule.computeIfAbsent(c.rule(), k -> new int[2]);
      n[1]++;
      if (c.rule().startsWith("near-miss/")) nearMisses++;
      if (got == c.expected()) {
        n[0]++;
        agree++;
        continue;
      }
      String what = "line " + c.line() + " [" + c.rule() + "] gold=" + c.gold() + " extracted="
          + Answers.extract(c.completion()).orElse("<nothing>");
      (got ? falsePositives : misses).add(what);
    }
    StringBuilder table = new StringBuilder(String.format("%-24s %9s%n", "rule", "agree"));
    perRule.forEach((rule, n) -> table.append(String.format("%-24s %4d/%-4d%n", rule, n[0], n[1])));
    table.append(String.format("%-24s %4d/%-4d (%.1f %%), near-miss pairs: %d%n", "total", agree, cases.size(),
        100.0 * agree / cases.size(), nearMisses));
    System.out.print(table);
    misses.forEach(m -> System.out.println("miss: " + m));
    falsePositives.forEach(m -> System.out.println("FALSE POSITIVE: " + m));
    assertTrue(cases.size() >= 300, "suite has " + cases.size() + " pairs");
    assertTrue(nearMisses >= 100, "near-miss set has " + nearMisses + " pairs");
    assertEquals(List.of(), falsePositives, "false positives");
    assertEquals(List.of(), misses, "every pair of the suite agrees with its expected verdict");
  }
}
