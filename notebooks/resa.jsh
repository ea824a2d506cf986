// The notebooks' one setup file: `%load resa.jsh` in a notebook's first cell. Imports only; each notebook's knobs
// follow it in the same cell. RESA_CI=1 makes scale(full, ci) return the small value.
import ai.djl.ndarray.*;
import com.google.common.collect.Iterators;
import dev.resa.activations.*;
import dev.resa.core.*;
import dev.resa.eval.*;
import dev.resa.io.SafeTensors;
import dev.resa.miniature.*;
import dev.resa.miniature.Miniature.*;
import dev.resa.model.*;
import dev.resa.sae.*;
import dev.resa.task.ArithmeticTask;
import dev.resa.tokenizer.*;
import dev.resa.train.*;
import dev.resa.tuning.*;
import dev.resa.viz.*;
import tech.tablesaw.api.*;

/** The run report's warning as Markdown when every model is at chance (the small CI form), else nothing. */
void warnIfAtChance(RunResult run) {
  String r = run.report();
  int at = r.indexOf("> **Every model is at chance**");
  if (at >= 0) display(MimeBundle.text(r.substring(at, r.indexOf('\n', at))).with("text/markdown", r.substring(at, r.indexOf('\n', at))));
}
