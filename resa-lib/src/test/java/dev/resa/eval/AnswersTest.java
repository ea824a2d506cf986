package dev.resa.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AnswersTest {
  @Test
  void theLastBoxedAnswerWinsAndNestedBracesAreKept() {
    assertEquals(Optional.of("\\frac{1}{\\sqrt{2}}"), Answers.extract("first \\boxed{3}, then \\boxed{\\frac{1}{\\sqrt{2}}}."));
    assertEquals(Optional.of("7"), Answers.extract("so $\\fbox{7}$"));
    assertEquals(Optional.of("5"), Answers.extract("the answer is $\\boxed 5$."));
    assertEquals(Optional.of("\\{1, 2\\}"), Answers.extract("\\boxed{\\{1, 2\\}}"));
    assertEquals(Optional.of("3"), Answers.extract("\\boxed{3} and an unclosed \\boxed{4"), "an unclosed box falls back to the previous one");
  }

  @Test
  void withoutABoxTheFallbacksApplyInOrder() {
    assertEquals(Optional.of("12"), Answers.extract("<think>hmm 5</think><answer>12</answer>"));
    assertEquals(Optional.of("\\frac{3}{4}"), Answers.extract("Therefore, the final answer is: $\\frac{3}{4}$. I hope it is correct"));
    assertEquals(Optional.of("x = 2"), Answers.extract("Work...\nAnswer: x = 2\n"));
    assertEquals(Optional.of("1,234"), Answers.extract("we get 17 apples and then 1,234 pears"));
    assertEquals(Optional.empty(), Answers.extract("no idea"));
  }

  @Test
  void gpqaLettersComeFromTheAnswerLineOrABoxOrTheLastLine() {
    assertEquals(Optional.of('C'), Answers.letter("Option A looks wrong because...\nAnswer: C"));
    assertEquals(Optional.of('B'), Answers.letter("The answer is (B)."));
    assertEquals(Optional.of('D'), Answers.letter("so it must be \\boxed{D}"));
    assertEquals(Optional.of('A'), Answers.letter("Answer: $A$"));
    assertEquals(Optional.empty(), Answers.letter("I cannot decide"));
  }

  @Test
  void promptsFollowTheSpecWordForWord() {
    Problem math = new Problem("1", "What is $1+1$?", List.of("2"), List.of(), null);
    assertEquals("<｜begin▁of▁sentence｜><｜User｜>Solve the following math problem efficiently and clearly.  The last line"
        + " of your response should be of the following format: 'Therefore, the final answer is: $\\boxed{ANSWER}$. I hope"
        + " it is correct' (without quotes) where ANSWER is just the final number or expression that solves the problem."
        + " Think step by step before answering.\n\nWhat is $1+1$?<｜Assistant｜><think>\n", Prompts.LIGHTEVAL.render(math));
    Problem mc = new Problem("2", "Pick one.", List.of("B"), List.of("w", "x", "y", "z"), null);
    assertEquals("<｜begin▁of▁sentence｜><｜User｜>Answer the following multiple choice question. The last line of your"
        + " response should be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of ABCD."
        + " Think step by step before answering.\n\nPick one.\n\nA) w\nB) x\nC) y\nD) z<｜Assistant｜><think>\n",
        Prompts.LIGHTEVAL.render(mc));
    assertEquals("<｜begin▁of▁sentence｜><｜User｜>What is $1+1$?\nPlease reason step by step, and put your final answer"
        + " within \\boxed{}.<｜Assistant｜><think>\n", Prompts.RESA.render(math));
    assertEquals("Problem: What is $1+1$?\nAnswer:", Prompts.PLAIN.render(math));
  }
}
