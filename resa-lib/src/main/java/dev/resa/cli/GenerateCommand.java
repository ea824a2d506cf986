package dev.resa.cli;

import ai.djl.ndarray.NDManager;
import dev.resa.core.Djl;
import dev.resa.model.DecoderLM;
import dev.resa.model.Generator;
import dev.resa.tokenizer.Tokenizer;
import dev.resa.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ./resa generate}: sample a continuation from a HF model folder or a llama2.c checkpoint. */
@Command(name = "generate", mixinStandardHelpOptions = true,
    description = "Generate text from a HF model folder (--model) or a llama2.c checkpoint (--llama2c).")
public final class GenerateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @ArgGroup(exclusive = true, multiplicity = "1")
  ModelSource source;

  @Option(names = "--tokenizer", paramLabel = "FILE",
      description = "tok.bin (llama2.c), tokenizer.json (HF), a char tokenizer .json, or the tokenizers/qwen2 data folder."
          + " Default: tokenizer.json in --model.")
  Path tokenizer;

  @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "", description = "Text to continue (default: empty, i.e. start from BOS).")
  String prompt;

  @Mixin SamplingOptions sampling = new SamplingOptions(256);

  @Option(names = "--seed", paramLabel = "SEED", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Mixin DeviceOption device = new DeviceOption("cpu");

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    try (NDManager manager = Djl.newManager(device.device())) {
      DecoderLM model = source.load(manager);
      Tokenizer tok = openTokenizer(model.config().vocabSize());
      if (tok.vocabSize() > model.config().vocabSize()) {
        throw new ParameterException(spec.commandLine(), "tokenizer has " + tok.vocabSize() + " tokens but the model only "
            + model.config().vocabSize() + ": they do not belong together");
      }
      int[] prompt = promptIds(tok);
      Set<Integer> stop = tok.eosId() >= 0 ? Set.of(tok.eosId()) : Set.of();
      int skip = tok.bosId() >= 0 && prompt.length > 0 && prompt[0] == tok.bosId() ? 1 : 0;
      Stream stream = new Stream(tok, Arrays.copyOfRange(prompt, skip, prompt.length), out);
      new Generator(model).generate(List.of(prompt), sampling.generator(stop, seed), (row, token) -> {
        if (!stop.contains(token)) stream.add(token); // the stop token ends the text; it is not part of it
      });
      stream.finish();
      if (tok instanceof AutoCloseable c) {
        try {
          c.close();
        } catch (Exception ignored) {
          // native tokenizer handle; nothing to recover
        }
      }
    }
    return 0;
  }

  private Tokenizer openTokenizer(int vocab) throws IOException {
    Path file = tokenizer != null ? tokenizer : source.tokenizerJson();
    if (file == null) throw new ParameterException(spec.commandLine(), "--tokenizer is required (no tokenizer.json in the model folder)");
    return Tokenizers.open(file, vocab);
  }

  /**
   * Prints text as tokens arrive. Byte-level tokens can end mid-character, so the whole sequence is re-decoded
   * and only a new suffix that is complete (no trailing U+FFFD) and extends what was printed goes out.
   */
  private static final class Stream {
    private final Tokenizer tok;
    private final List<Integer> ids = new ArrayList<>();
    private final PrintWriter out;
    private String printed = "";

    Stream(Tokenizer tok, int[] prompt, PrintWriter out) {
      this.tok = tok;
      this.out = out;
      for (int id : prompt) ids.add(id);
      emit(false);
    }

    void add(int token) {
      ids.add(token);
      emit(false);
    }

    void finish() {
      emit(true);
      out.println();
      out.flush();
    }

    private void emit(boolean last) {
      String text = tok.decode(ids.stream().mapToInt(Integer::intValue).toArray());
      if (!last && text.endsWith("\uFFFD")) return;
      if (text.startsWith(printed)) {
        out.print(text.substring(printed.length()));
      } else if (last) {
        out.print(System.lineSeparator() + text); // the decoder rewrote earlier text; show the final version whole
      } else {
        return;
      }
      out.flush();
      printed = text;
    }
  }

  /** BOS (when the tokenizer has one) followed by the prompt's tokens. */
  private int[] promptIds(Tokenizer tok) {
    int[] text = prompt.isEmpty() ? new int[0] : tok.encode(prompt);
    if (tok.bosId() < 0) {
      if (text.length == 0) throw new ParameterException(spec.commandLine(), "this tokenizer has no BOS token: give a non-empty --prompt");
      return text;
    }
    int[] ids = new int[text.length + 1];
    ids[0] = tok.bosId();
    System.arraycopy(text, 0, ids, 1, text.length);
    return ids;
  }
}
