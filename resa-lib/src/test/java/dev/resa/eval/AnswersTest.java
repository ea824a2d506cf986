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
  void mathVerifyOrderNearbyBoxesPhrasesSpansAndNumbers() {
    assertEquals(Optional.of("-2, 1"), Answers.extract("The integers are \\boxed{-2} \\quad\\text{and}\\quad \\boxed{1}."));
    assertEquals(Optional.of("2"), Answers.extract("I first wrote \\boxed{1}. Checking the parity again, it is \\boxed{2}."));
    assertEquals(Optional.of("34"), Answers.extract("Final Answer: The largest $n$ is 34."));
    assertEquals(Optional.of("9"), Answers.extract("Answer $$ \n 9 \n $$"));
    assertEquals(Optional.empty(), Answers.extract("Answer $ \n 9 \n $"), "an inline span over lines is malformed");
    assertEquals(Optional.of("\\frac15"), Answers.extract("so it is $\\frac15$"));
    assertEquals(Optional.of("120"), Answers.extract("The volume is $5 \\times 6 \\times 4 = 120$."), "a computation gives its result");
    assertEquals(Optional.of("x = -6"), Answers.extract("hence $x = -6$."), "an assignment stays whole");
    assertEquals(Optional.of("12"), Answers.extract("with $d = \\frac{90}{n}$ there are 12 sequences. I hope it is correct."));
    assertEquals(Optional.of("2.74"), Answers.extract("Soucis : 2,74 $ a.."), "a decimal comma");
    assertEquals(Optional.of("\\frac{10}{9}"), Answers.extract("\\frac{10}{9}"), "a bare expression is the answer");
    assertEquals(Optional.empty(), Answers.extract("AZYUK2A"));
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
