/**
 * Text to token ids for the <b>model</b> stage and everything after it: Hugging Face {@code tokenizer.json}
 * ({@link dev.resa.tokenizer.HfTokenizer}), llama2.c {@code tok512.bin} ({@link dev.resa.tokenizer.Llama2cTokenizer})
 * and one-token-per-character tokenizers for synthetic tasks ({@link dev.resa.tokenizer.CharTokenizer}), all behind
 * {@link dev.resa.tokenizer.Tokenizer} and opened by file type through {@link dev.resa.tokenizer.Tokenizers}.
 */
package dev.resa.tokenizer;
