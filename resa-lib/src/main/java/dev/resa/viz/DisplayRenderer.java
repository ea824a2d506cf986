package dev.resa.viz;

/**
 * Service-provider interface for rich notebook display of types the library does not own (Tablesaw tables and
 * figures, ...). Implementations are listed in {@code META-INF/services/dev.resa.viz.DisplayRenderer} and found by
 * {@link java.util.ServiceLoader}; the Jupyter kernel asks {@link Rendering#render} for every displayed value.
 */
public interface DisplayRenderer {
  /** The bundle for {@code value}, or null when this renderer does not handle its type. */
  MimeBundle render(Object value);
}
