package dev.resa.viz;

/** A library type that knows how to show itself in a notebook (checked before any {@link DisplayRenderer}). */
public interface Renderable {
  MimeBundle toMimeBundle();
}
