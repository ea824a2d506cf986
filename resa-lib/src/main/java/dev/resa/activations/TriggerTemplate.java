package dev.resa.activations;

/**
 * Resa's Stage-I text format (resa-algorithm §1.2, {@code make_conv_for_sae_grpo}): the SAE fine-tune system
 * prompt, then the problem, then the answer inside {@code <think>} and again inside {@code <answer>}. Raw text, no
 * chat template.
 */
public final class TriggerTemplate {
  private TriggerTemplate() {}

  /** {@code SAE_FINE_TUNE_SYSTEM_PROMPT} from {@code resa/utils/prompt.py}: starts and ends with a newline. */
  public static final String SYSTEM_PROMPT = "\nA conversation between User and Assistant. The user asks a question, and the Assistant solves it.\n"
      + "The assistant first thinks about the reasoning process in the mind and then provides the user\n"
      + "with the answer. The reasoning process and answer are enclosed within <think> </think> and\n"
      + "<answer> </answer> tags, respectively, i.e., <think> reasoning process here </think>\n"
      + "<answer> answer here </answer>.\n";

  /** One training example, exactly as Resa formats it. */
  public static String format(String problem, String answer) {
    return SYSTEM_PROMPT + "User:\n " + problem + "\n\nAssistant:\n <think> " + answer + " </think>\n<answer> Answer: " + answer + "</answer>";
  }
}
