package dev.resa.kernel;

import com.google.gson.JsonParser;
import dev.resa.viz.MimeBundle;
import dev.resa.viz.Rendering;
import java.util.Map;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.Renderer;

/** Turns values into Jupyter display data: resa-lib's renderer registry first, then jjava's built-in renderers. */
final class Displays {
  private Displays() {}

  static DisplayData render(Object value, Renderer fallback) {
    if (value instanceof DisplayData d) return d;
    MimeBundle bundle = Rendering.render(value);
    if (bundle != null) return toDisplayData(bundle);
    return fallback.render(value);
  }

  static DisplayData toDisplayData(MimeBundle bundle) {
    DisplayData d = new DisplayData();
    for (Map.Entry<String, String> e : bundle.data().entrySet()) {
      d.putData(e.getKey(), MimeBundle.isJson(e.getKey()) ? JsonParser.parseString(e.getValue()) : e.getValue());
    }
    return d;
  }
}
