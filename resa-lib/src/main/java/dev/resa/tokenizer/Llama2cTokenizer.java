package dev.resa.tokenizer;

import java.io.IOException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The llama2.c tokenizer file ({@code tok512.bin}): an int32 max piece length, then for each id a float32 merge
 * score, an int32 byte length and the UTF-8 piece. Encoding is SentencePiece-style BPE as llama2.c runs it:
 * a dummy-prefix space, one token per code point (byte fallback {@code <0xXX>} = id byte + 3), then greedy
 * merging of the adjacent pair whose concatenation has the highest score.
 */
public final class Llama2cTokenizer implements Tokenizer {
  private final String[] pieces;
  private final float[] scores;
  private final Map<String, Integer> ids = new HashMap<>();

  private Llama2cTokenizer(String[] pieces, float[] scores) {
    this.pieces = pieces;
    this.scores = scores;
    for (int i = 0; i < pieces.length; i++) ids.putIfAbsent(pieces[i], i);
  }

  /** Reads a tokenizer file; {@code vocabSize} must match the model's (stories260K: 512). */
  public static Llama2cTokenizer load(Path file, int vocabSize) throws IOException {
    if (!Files.isRegularFile(file)) throw new IOException("llama2.c tokenizer not found: " + file);
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    String[] pieces = new String[vocabSize];
    float[] scores = new float[vocabSize];
    try {
      b.getInt(); // max token length
      for (int i = 0; i < vocabSize; i++) {
        scores[i] = b.getFloat();
        int len = b.getInt();
        if (len < 0 || len > b.remaining()) throw new IOException(file + ": token " + i + " has invalid length " + len);
        byte[] s = new byte[len];
        b.get(s);
        pieces[i] = new String(s, StandardCharsets.UTF_8);
      }
    } catch (java.nio.BufferUnderflowException e) {
      throw new IOException(file + ": truncated (expected " + vocabSize + " tokens)", e);
    }
    return new Llama2cTokenizer(pieces, scores);
  }

  @Override
  public int[] encode(String text) {
    List<Integer> tokens = new ArrayList<>();
    if (text.isEmpty()) return new int[0];
    String withPrefix = " " + text;
    withPrefix.codePoints().forEach(cp -> {
      String ch = new String(Character.toChars(cp));
      Integer id = ids.get(ch);
      if (id != null) {
        tokens.add(id);
      } else {
        for (byte by : ch.getBytes(StandardCharsets.UTF_8)) tokens.add((by & 0xFF) + 3);
      }
    });
    while (true) {
      float best = Float.NEGATIVE_INFINITY;
      int bestId = -1, bestAt = -1;
      for (int i = 0; i + 1 < tokens.size(); i++) {
        Integer merged = ids.get(pieces[tokens.get(i)] + pieces[tokens.get(i + 1)]);
        if (merged != null && scores[merged] > best) {
          best = scores[merged];
          bestId = merged;
          bestAt = i;
        }
      }
      if (bestAt < 0) break;
      tokens.set(bestAt, bestId);
      tokens.remove(bestAt + 1);
    }
    return tokens.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Decodes pieces (BOS/EOS are dropped; the dummy-prefix space of the first piece is removed). */
  @Override
  public String decode(int[] tokens) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    boolean first = true;
    for (int id : tokens) {
      if (id == bosId() || id == eosId()) {
        first = true;
        continue;
      }
      String p = pieces[id];
      if (first && p.startsWith(" ")) p = p.substring(1);
      first = false;
      if (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">")) {
        out.write(Integer.parseInt(p.substring(3, 5), 16));
      } else {
        out.writeBytes(p.getBytes(StandardCharsets.UTF_8));
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  @Override
  public int vocabSize() {
    return pieces.length;
  }

  @Override
  public OptionalInt tokenId(String token) {
    return Tokenizers.found(ids.get(token));
  }

  @Override
  public int bosId() {
    return 1;
  }

  @Override
  public int eosId() {
    return 2;
  }

  /** The raw piece of an id, e.g. for feature cards. */
  public String piece(int id) {
    return pieces[id];
  }
}
