package dev.resa.tokenizer;

import java.util.OptionalInt;

/**
 * Text to token ids and back. Implementations: {@code HfTokenizer} ({@code tokenizer.json} through DJL's HF
 * tokenizers, offline), {@code Llama2cTokenizer} ({@code tok512.bin}) and {@code CharTokenizer} (synthetic tasks).
 * {@link #encode} never adds special tokens: callers decide where BOS/EOS go.
 */
public interface Tokenizer {
  int[] encode(String text);

  /** Decodes ids to text, special tokens included (so {@code <think>} stays visible). */
  String decode(int[] ids);

  int vocabSize();

  /** Id of an exact token string such as {@code <think>}, {@code </think>} or {@code <|endoftext|>}. */
  OptionalInt tokenId(String token);

  /** Beginning-of-sequence id, or -1. */
  int bosId();

  /** End-of-sequence id, or -1. */
  int eosId();

  /** Padding id (falls back to EOS), or -1. */
  default int padId() {
    return eosId();
  }
}
