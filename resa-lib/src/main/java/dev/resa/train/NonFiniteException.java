package dev.resa.train;

/**
 * The one non-finite guard of every trainer (LM, SAE, Stage II, SFT, GRPO): a trainer calls {@link #check} with
 * the step's loss and gradient norm <em>before</em> its optimiser update, so parameters, optimiser state and the
 * checkpoints on disk all stay as they were after the last good step. The message names the step and what was
 * kept, for example {@code step 3: loss is NaN; stopped before the update. Last good checkpoint: out/checkpoint-2
 * (untouched); no final model was written.}
 */
public final class NonFiniteException extends RuntimeException {
  private final long step;

  private NonFiniteException(long step, String message) {
    super(message);
    this.step = step;
  }

  /** The 1-based step whose loss or gradient was not finite. */
  public long step() {
    return step;
  }

  /**
   * Throws when {@code loss} or {@code gradNorm} is NaN or infinite.
   *
   * @param step 1-based number of the step being taken.
   * @param lossName what the loss is called in this trainer's log ("loss", "fvu", ...).
   * @param lastGood the last checkpoint written, or null when none was.
   */
  public static void check(long step, String lossName, double loss, double gradNorm, java.nio.file.Path lastGood) {
    if (Double.isFinite(loss) && Double.isFinite(gradNorm)) return;
    String what = !Double.isFinite(loss) ? lossName + " is " + loss : "gradient norm is " + gradNorm + " (" + lossName + " " + loss + ")";
    throw new NonFiniteException(step, "step " + step + ": " + what + "; stopped before the update. "
        + (lastGood == null ? "No checkpoint had been written" : "Last good checkpoint: " + lastGood + " (untouched)")
        + "; no final model was written. Lower the learning rate or check the data.");
  }
}
