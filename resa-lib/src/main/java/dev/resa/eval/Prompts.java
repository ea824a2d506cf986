package dev.resa.eval;

/**
 * Prompt templates. {@link #LIGHTEVAL} is what Resa's numbers were measured with (spec §5: lighteval's MATH / GPQA
 * query in one user turn of the R1-distill chat template, no system prompt); {@link #RESA} is DeepSeek-R1's
 * recommended instruction in the same chat template; {@link #PLAIN} is for tiny models without chat tokens.
 */
public enum Prompts {
  LIGHTEVAL,
  RESA,
  PLAIN,
  /** The problem text as is: for tasks whose problems already are the model's prompt (the miniature's arithmetic). */
  RAW;

  /** lighteval's MATH query (note the two spaces after "clearly."). */
  public static final String MATH_TEMPLATE =
      "Solve the following math problem efficiently and clearly.  The last line of your response should be of the"
          + " following format: 'Therefore, the final answer is: $\\boxed{ANSWER}$. I hope it is correct' (without"
          + " quotes) where ANSWER is just the final number or expression that solves the problem. Think step by step"
          + " before answering.\n\n";

  /** lighteval's GPQA query; the question and the four options follow. */
  public static final String GPQA_TEMPLATE =
      "Answer the following multiple choice question. The last line of your response should be of the following"
          + " format: 'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think step by step before"
          + " answering.\n\n";

  /** DeepSeek-R1's recommended instruction, appended to the problem. */
  public static final String RESA_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}.";

  /** The R1-distill chat template for one user turn (the current HF template opens the think block). */
  public static String r1Chat(String user) {
    return "<｜begin▁of▁sentence｜><｜User｜>" + user + "<｜Assistant｜><think>\n";
  }

  /** The full prompt for a problem. */
  public String render(Problem p) {
    return switch (this) {
      case LIGHTEVAL -> r1Chat(p.multipleChoice() ? GPQA_TEMPLATE + p.problem() + options(p) : MATH_TEMPLATE + p.problem());
      case RESA -> r1Chat(p.problem() + (p.multipleChoice() ? options(p) : "") + "\n" + RESA_INSTRUCTION);
      case PLAIN -> "Problem: " + p.problem() + (p.multipleChoice() ? options(p) : "") + "\nAnswer:";
      case RAW -> p.problem();
    };
  }

  private static String options(Problem p) {
    StringBuilder sb = new StringBuilder("\n");
    for (int i = 0; i < p.choices().size(); i++) sb.append('\n').append((char) ('A' + i)).append(") ").append(p.choices().get(i));
    return sb.toString();
  }

  public static Prompts of(String name) {
    for (Prompts t : values()) if (t.name().equalsIgnoreCase(name)) return t;
    throw new IllegalArgumentException("unknown prompt template '" + name + "'; known: lighteval, resa, plain, raw");
  }
}
