package dev.resa.eval;

import java.util.List;

/**
 * One benchmark item, whatever the source format.
 *
 * @param id stable id within its benchmark (MATH's unique_id, AIME's id, Minerva's idx, ...); results are keyed by it.
 * @param problem the question text (for GPQA without the options; {@link Prompts} appends them).
 * @param answers accepted reference answers (LaTeX), or for multiple choice the single correct letter.
 * @param choices the options in display order A-D for multiple choice; empty otherwise.
 * @param solution a worked reference solution when the data has one (MATH500, AIME24, Minerva, GSM8K), else null.
 */
public record Problem(String id, String problem, List<String> answers, List<String> choices, String solution) {
  public Problem {
    answers = List.copyOf(answers);
    choices = List.copyOf(choices);
  }

  public boolean multipleChoice() {
    return !choices.isEmpty();
  }
}
