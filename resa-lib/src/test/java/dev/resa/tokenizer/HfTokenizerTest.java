package dev.resa.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.resa.core.DataDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tokenizer.json built from the shipped BPE parts, run through DJL's HF tokenizers. */
class HfTokenizerTest {
  @TempDir Path tmp;
  @TempDir static Path shared;
  private static Path qwenJson;

  /** The Qwen tokenizer.json is built once per class (151k merges): a few seconds on a busy machine. */
  private static synchronized Path qwenJson() throws java.io.IOException {
    if (qwenJson == null) qwenJson = TokenizerJson.qwen(tokenizers().resolve("qwen2"), shared.resolve("tokenizer.json"));
    return qwenJson;
  }

  private static Path tokenizers() {
    Path dir = DataDir.resolve(null).resolve("tokenizers");
    Assumptions.assumeTrue(Files.isDirectory(dir), "data folder with tokenizers/ not found (set -Dresa.dataDir): " + dir);
    return dir;
  }

  @Test
  void qwenRoundTripsAllMath500ProblemsAndThinkTagsAreSingleTokens() throws Exception {
    Path data = tokenizers().getParent();
    try (HfTokenizer tok = HfTokenizer.open(qwenJson())) {
      assertArrayEquals(new int[] {151667}, tok.encode("<think>"));
      assertArrayEquals(new int[] {151668}, tok.encode("</think>"));
      int[] ids = tok.encode("<think>\nx</think>");
      assertEquals(151667, ids[0]);
      assertEquals(151668, ids[ids.length - 1]);
      assertEquals(151643, tok.eosId(), "<|endoftext|>");
      assertEquals(151669, tok.vocabSize());

      // Ids straight from vocab.json ("Ġ" is the byte-level space), not from our code.
      JsonObject vocab = JsonParser.parseString(Files.readString(data.resolve("tokenizers/qwen2/vocab.json"))).getAsJsonObject();
      assertArrayEquals(new int[] {vocab.get("Hello").getAsInt(), vocab.get("Ġworld").getAsInt()}, tok.encode("Hello world"));

      List<String> lines = Files.readAllLines(data.resolve("math500/test.jsonl"));
      assertEquals(500, lines.size());
      long tokens = 0;
      for (int i = 0; i < lines.size(); i++) {
        String problem = JsonParser.parseString(lines.get(i)).getAsJsonObject().get("problem").getAsString();
        int[] enc = tok.encode(problem);
        tokens += enc.length;
        assertEquals(problem, tok.decode(enc), "MATH500 problem " + i + " does not round-trip");
      }
      assertTrue(tokens > 500 * 10, "suspiciously few tokens: " + tokens);
    }
  }

  @Test
  void specialTokensComeFromTokenizerConfigWhenPresent() throws Exception {
    Path qwen = tokenizers().resolve("qwen2");
    Files.copy(qwenJson(), tmp.resolve("tokenizer.json"));
    Files.copy(qwen.resolve("qwen3_tokenizer_config.json"), tmp.resolve("tokenizer_config.json"));
    try (HfTokenizer tok = HfTokenizer.open(tmp)) { // a folder works too
      assertEquals(151645, tok.eosId(), "Qwen3 config: eos_token <|im_end|>");
      assertEquals(151643, tok.padId(), "Qwen3 config: pad_token <|endoftext|>");
      assertEquals(-1, tok.bosId(), "Qwen3 has no BOS");
      assertEquals(151644, tok.tokenId("<|im_start|>").orElseThrow());
    }
  }

  @Test
  void tokenizersOpenDispatchesOnWhatThePathHolds() throws Exception {
    Tokenizer fromParts = Tokenizers.open(tokenizers().resolve("qwen2"), 151936);
    assertTrue(fromParts instanceof HfTokenizer);
    assertArrayEquals(new int[] {151667}, fromParts.encode("<think>"));
    ((HfTokenizer) fromParts).close();
    CharTokenizer chars = new CharTokenizer("xyz");
    chars.save(tmp.resolve("chars.json"));
    assertTrue(Tokenizers.open(tmp.resolve("chars.json"), 0) instanceof CharTokenizer);
    Path stories = tokenizers().getParent().resolve("models/stories260K/tok512.bin");
    assertTrue(Tokenizers.open(stories, 512) instanceof Llama2cTokenizer);
    var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> Tokenizers.open(tmp.resolve("nope.txt"), 0));
    assertTrue(e.getMessage().contains("nope.txt"), e.getMessage());
  }

  @Test
  void gpt2MatchesKnownIds() throws Exception {
    Path json = TokenizerJson.gpt2(tokenizers().resolve("gpt2"), tmp.resolve("gpt2.json"));
    try (HfTokenizer tok = HfTokenizer.open(json)) {
      assertArrayEquals(new int[] {15496, 995}, tok.encode("Hello world")); // GPT-2's well-known ids
      assertArrayEquals(new int[] {50256}, tok.encode("<|endoftext|>"));
      String text = "It's 3.14159, isn't it?  Ünïcödé — 日本語\n\ttabs";
      assertEquals(text, tok.decode(tok.encode(text)));
      assertEquals(50257, tok.vocabSize());
    }
  }

  @Test
  void longTextIsNotTruncated() throws Exception {
    Path json = TokenizerJson.gpt2(tokenizers().resolve("gpt2"), tmp.resolve("gpt2.json"));
    try (HfTokenizer tok = HfTokenizer.open(json)) {
      String text = " word".repeat(2000);
      assertEquals(2000, tok.encode(text).length, "DJL's default 512-token truncation must be off");
    }
  }
}
