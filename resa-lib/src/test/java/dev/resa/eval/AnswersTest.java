package dev.resa.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AnswersTest {
  @ParameterizedTest(name = "{1} -> {0}")
  @MethodSource
  void extractsTheAnswerAsMathVerifyDoes(Optional<String> expected, String completion) {
    assertEquals(expected, Answers.extract(completion));
  }

  static Stream<Arguments> extractsTheAnswerAsMathVerifyDoes() {
    return Stream.of(
        // the last boxed answer wins and nested braces are kept; an unclosed box falls back to the previous one
        answer("\\frac{1}{\\sqrt{2}}", "first \\boxed{3}, then \\boxed{\\frac{1}{\\sqrt{2}}}."),
        answer("7", "so $\\fbox{7}$"),
        answer("5", "the answer is $\\boxed 5$."),
        answer("\\{1, 2\\}", "\\boxed{\\{1, 2\\}}"),
        answer("3", "\\boxed{3} and an unclosed \\boxed{4"),
        // without a box the fallbacks apply in order
        answer("12", "<think>hmm 5</think><answer>12</answer>"),
        answer("\\frac{3}{4}", "Therefore, the final answer is: $\\frac{3}{4}$. I hope it is correct"),
        answer("x = 2", "Work...\nAnswer: x = 2\n"),
        answer("1,234", "we get 17 apples and then 1,234 pears"),
        noAnswer("no idea"),
        // math-verify's order: nearby boxes, phrases, spans, numbers
        answer("-2, 1", "The integers are \\boxed{-2} \\quad\\text{and}\\quad \\boxed{1}."),
        answer("2", "I first wrote \\boxed{1}. Checking the parity again, it is \\boxed{2}."),
        answer("34", "Final Answer: The largest $n$ is 34."),
        answer("9", "Answer $$ \n 9 \n $$"),
        noAnswer("Answer $ \n 9 \n $"), // an inline span over lines is malformed
        answer("\\frac15", "so it is $\\frac15$"),
        answer("120", "The volume is $5 \\times 6 \\times 4 = 120$."), // a computation gives its result
        answer("x = -6", "hence $x = -6$."), // an assignment stays whole
        answer("12", "with $d = \\frac{90}{n}$ there are 12 sequences. I hope it is correct."),
        answer("2.74", "Soucis : 2,74 $ a.."), // a decimal comma
        answer("\\frac{10}{9}", "\\frac{10}{9}"), // a bare expression is the answer
        noAnswer("AZYUK2A"));
  }

  private static Arguments answer(String expected, String completion) {
    return Arguments.of(Optional.of(expected), completion);
  }

  private static Arguments noAnswer(String completion) {
    return Arguments.of(Optional.empty(), completion);
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
