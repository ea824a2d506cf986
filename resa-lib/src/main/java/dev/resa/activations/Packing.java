package dev.resa.activations;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Documents to fixed-length token chunks, as sparsify's {@code chunk_and_tokenize} does. The documents go in
 * batches of 2048 (its {@code datasets.map} batch); each batch is joined into one stream with EOS <em>before</em>
 * each document (so the stream starts with EOS), the stream is cut into chunks of exactly {@code chunkLen} tokens,
 * documents run across chunk boundaries, and the stream's last partial chunk is dropped, once per batch. No
 * padding, so every position of every chunk is real text.
 */
public final class Packing {
  private Packing() {}

  /** Documents per joined stream, sparsify's {@code datasets.map} batch size. */
  public static final int DOCS_PER_STREAM = 2048;

  /**
   * Packs {@code docs} into chunks of {@code chunkLen} tokens (each a {@code long[chunkLen]}, ready for an int64
   * NDArray), in streams of {@link #DOCS_PER_STREAM} documents. The tokenizer must define an EOS id; an empty
   * result means the corpus is shorter than one chunk.
   */
  public static List<long[]> pack(List<String> docs, Tokenizer tok, int chunkLen) {
    return pack(docs, tok, chunkLen, DOCS_PER_STREAM);
  }

  /** {@link #pack(List, Tokenizer, int)} with {@code docsPerStream} documents per joined stream. */
  public static List<long[]> pack(List<String> docs, Tokenizer tok, int chunkLen, int docsPerStream) {
    if (chunkLen <= 0) throw new IllegalArgumentException("chunkLen must be positive, got " + chunkLen);
    if (docsPerStream <= 0) throw new IllegalArgumentException("docsPerStream must be positive, got " + docsPerStream);
    int eos = tok.eosId();
    if (eos < 0) throw new IllegalArgumentException("the tokenizer has no EOS token, which packing needs as separator");
    List<long[]> chunks = new ArrayList<>();
    for (int start = 0; start < docs.size(); start += docsPerStream) {
      long[] current = new long[chunkLen];
      int filled = 0;
      for (String doc : docs.subList(start, Math.min(docs.size(), start + docsPerStream))) {
        int[] ids = tok.encode(doc);
        for (int i = -1; i < ids.length; i++) { // i = -1 is the EOS in front of the document
          current[filled++] = i < 0 ? eos : ids[i];
          if (filled == chunkLen) {
            chunks.add(current);
            current = new long[chunkLen];
            filled = 0;
          }
        }
      }
      // the stream's partial chunk in `current` is dropped
    }
    return chunks;
  }

  /**
   * Reads documents from a file: {@code .jsonl} / {@code .json} lines are JSON objects whose {@code field}
   * holds the text (blank lines skipped); any other file is plain text with one document per non-blank line
   * (the Hugging Face {@code text} loader's convention). Errors name the file and line.
   */
  public static List<String> readDocuments(Path file, String field) throws IOException {
    if (!Files.isRegularFile(file)) throw new IOException("data file not found: " + file);
    String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    boolean jsonl = name.endsWith(".jsonl") || name.endsWith(".json");
    List<String> docs = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int lineNo = 0;
      while ((line = r.readLine()) != null) {
        lineNo++;
        if (line.isBlank()) continue;
        if (!jsonl) {
          docs.add(line);
          continue;
        }
        JsonObject o;
        try {
          o = JsonParser.parseString(line).getAsJsonObject();
        } catch (RuntimeException e) {
          throw new IOException(file + ":" + lineNo + ": not a JSON object: " + e.getMessage(), e);
        }
        JsonElement v = o.get(field);
        if (v == null || !v.isJsonPrimitive()) {
          throw new IOException(file + ":" + lineNo + ": no string field '" + field + "' (fields: " + o.keySet() + ")");
        }
        docs.add(v.getAsString());
      }
    }
    return docs;
  }

  /** Total tokens in {@code chunks} (for logs and unigram statistics). */
  public static long tokenCount(List<long[]> chunks) {
    return chunks.stream().mapToLong(c -> c.length).sum();
  }
}
