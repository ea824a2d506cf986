package dev.resa.viz;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A value rendered for a notebook: mime type → content, in preference order.
 *
 * <p>Text types ({@code text/plain}, {@code text/html}, {@code image/svg+xml}) hold the text itself; JSON types
 * ({@code application/json}, {@code application/vnd.plotly.v1+json}, any {@code +json}) hold JSON text that the
 * kernel sends as a JSON object, not as a string.
 */
public record MimeBundle(Map<String, String> data) {
  public static final String TEXT = "text/plain";
  public static final String HTML = "text/html";
  public static final String PLOTLY = "application/vnd.plotly.v1+json";

  public MimeBundle {
    data = Collections.unmodifiableMap(new LinkedHashMap<>(data));
    if (!data.containsKey(TEXT)) throw new IllegalArgumentException("a mime bundle needs text/plain, got " + data.keySet());
  }

  /** A bundle with only {@code text/plain}. */
  public static MimeBundle text(String text) {
    return new MimeBundle(Map.of(TEXT, text));
  }

  /** A bundle with {@code text/html} and its {@code text/plain} fallback. */
  public static MimeBundle html(String html, String text) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(HTML, html);
    m.put(TEXT, text);
    return new MimeBundle(m);
  }

  /** This bundle plus one more representation (replacing an existing one of the same type). */
  public MimeBundle with(String mime, String content) {
    Map<String, String> m = new LinkedHashMap<>(data);
    m.put(mime, content);
    return new MimeBundle(m);
  }

  /** True for mime types whose content is JSON text. */
  public static boolean isJson(String mime) {
    return mime.equals("application/json") || mime.endsWith("+json");
  }
}
