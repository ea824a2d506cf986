package dev.resa.tokenizer;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import dev.resa.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * One token per character plus whole-string special tokens, for synthetic tasks. Ids: the specials first in the
 * order given ({@code <pad>}, {@code <bos>}, {@code <eos>}, {@code <think>}, {@code </think>} by default), then
 * the alphabet. Special tokens are matched greedily (longest first) before single characters, so
 * {@code "<think>"} in text always encodes to one id.
 */
public final class CharTokenizer implements Tokenizer {
  public static final List<String> DEFAULT_SPECIALS = List.of("<pad>", "<bos>", "<eos>", "<think>", "</think>");

  private final List<String> specials;
  private final String alphabet;
  private final String[] vocab;
  private final Map<String, Integer> specialIds = new HashMap<>();
  private final Map<Integer, Integer> charIds = new HashMap<>();

  public CharTokenizer(String alphabet, List<String> specials) {
    this.alphabet = alphabet;
    this.specials = List.copyOf(specials);
    List<String> v = new ArrayList<>(specials);
    for (int i = 0; i < specials.size(); i++) specialIds.put(specials.get(i), i);
    int[] cps = alphabet.codePoints().toArray();
    for (int cp : cps) {
      if (charIds.containsKey(cp)) throw new IllegalArgumentException("alphabet repeats character '" + new String(Character.toChars(cp)) + "'");
      charIds.put(cp, v.size());
      v.add(new String(Character.toChars(cp)));
    }
    this.vocab = v.toArray(String[]::new);
  }

  public CharTokenizer(String alphabet) {
    this(alphabet, DEFAULT_SPECIALS);
  }

  @Override
  public int[] encode(String text) {
    List<Integer> out = new ArrayList<>();
    int i = 0;
    outer:
    while (i < text.length()) {
      if (text.charAt(i) == '<') {
        String bestTok = null;
        for (String s : specials) {
          if (text.startsWith(s, i) && (bestTok == null || s.length() > bestTok.length())) bestTok = s;
        }
        if (bestTok != null) {
          out.add(specialIds.get(bestTok));
          i += bestTok.length();
          continue outer;
        }
      }
      int cp = text.codePointAt(i);
      Integer id = charIds.get(cp);
      if (id == null) {
        throw new IllegalArgumentException("character '" + new String(Character.toChars(cp)) + "' at index " + i
            + " is not in the tokenizer's alphabet \"" + alphabet + "\"");
      }
      out.add(id);
      i += Character.charCount(cp);
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  @Override
  public String decode(int[] ids) {
    StringBuilder sb = new StringBuilder();
    for (int id : ids) {
      if (id < 0 || id >= vocab.length) throw new IllegalArgumentException("token id " + id + " out of range 0.." + (vocab.length - 1));
      sb.append(vocab[id]);
    }
    return sb.toString();
  }

  @Override
  public int vocabSize() {
    return vocab.length;
  }

  @Override
  public OptionalInt tokenId(String token) {
    Integer id = specialIds.get(token);
    if (id == null && token.codePointCount(0, token.length()) == 1) id = charIds.get(token.codePointAt(0));
    return Tokenizers.found(id);
  }

  private int special(String s) {
    Integer id = specialIds.get(s);
    return id == null ? -1 : id;
  }

  @Override
  public int bosId() {
    return special("<bos>");
  }

  @Override
  public int eosId() {
    return special("<eos>");
  }

  @Override
  public int padId() {
    int p = special("<pad>");
    return p >= 0 ? p : eosId();
  }

  /** Writes {@code {"type":"char","alphabet":...,"specials":[...]}} atomically. */
  public void save(Path file) throws IOException {
    JsonObject j = new JsonObject();
    j.addProperty("type", "char");
    j.addProperty("alphabet", alphabet);
    j.add("specials", new Gson().toJsonTree(specials));
    AtomicFiles.writeString(file, new Gson().toJson(j));
  }

  public static CharTokenizer load(Path file) throws IOException {
    JsonObject j;
    try {
      j = new Gson().fromJson(Files.readString(file), JsonObject.class);
    } catch (RuntimeException e) {
      throw new IOException(file + ": not a char tokenizer file: " + e.getMessage(), e);
    }
    if (j == null || !j.has("alphabet") || !j.has("specials")) throw new IOException(file + ": needs 'alphabet' and 'specials'");
    List<String> sp = new ArrayList<>();
    j.getAsJsonArray("specials").forEach(e -> sp.add(e.getAsString()));
    return new CharTokenizer(j.get("alphabet").getAsString(), sp);
  }
}
