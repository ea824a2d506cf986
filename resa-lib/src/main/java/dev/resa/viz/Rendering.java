package dev.resa.viz;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The renderer registry: a {@link MimeBundle} is shown as is, {@link Renderable} values render themselves, others
 * go through the service providers.
 */
public final class Rendering {
  private Rendering() {}

  private static volatile List<DisplayRenderer> renderers;

  /** The rich bundle for {@code value}, or null when nothing renders it (callers fall back to {@code toString()}). */
  public static MimeBundle render(Object value) {
    if (value == null) return null;
    if (value instanceof MimeBundle b) return b;
    if (value instanceof Renderable r) return r.toMimeBundle();
    for (DisplayRenderer renderer : renderers()) {
      MimeBundle bundle = renderer.render(value);
      if (bundle != null) return bundle;
    }
    return null;
  }

  private static List<DisplayRenderer> renderers() {
    List<DisplayRenderer> list = renderers;
    if (list == null) {
      list = new ArrayList<>();
      for (DisplayRenderer r : ServiceLoader.load(DisplayRenderer.class, Rendering.class.getClassLoader())) list.add(r);
      renderers = list = List.copyOf(list);
    }
    return list;
  }
}
