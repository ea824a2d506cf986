package dev.resa.train;

import ai.djl.ndarray.NDManager;

/**
 * What every optimiser here keeps: its settings, a count of the updates applied, and state arrays in a manager of
 * their own, freed by {@link #close}.
 *
 * @param <C> the optimiser's settings.
 */
public abstract class Optimizer<C> implements AutoCloseable {
  protected final C config;
  /** The state arrays (moments, iterates), in a child of the manager the optimiser was created under. */
  protected final NDManager state;
  /** Updates applied so far (or restored from a checkpoint). */
  protected long steps;

  protected Optimizer(C config, NDManager parent) {
    this.config = config;
    this.state = parent.newSubManager();
  }

  public C config() {
    return config;
  }

  public long steps() {
    return steps;
  }

  @Override
  public void close() {
    state.close();
  }
}
