package dev.resa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sft} end to end on a tiny model: the shared text and LoRA options reach the adapter it writes. */
class SftCommandTest {
  @Test
  void trainsAnAdapterWithTheRequestedRankAndAlpha(@TempDir Path dir) throws Exception {
    System.setProperty("resa.progress.off", "true");
    Path data = SumsCorpus.write(dir.resolve("corpus.jsonl"), 120);
    Path base = dir.resolve("base");
    assertEquals(0, SumsCorpus.trainTinyLm(data, base, "--steps", "2"));

    Path out = dir.resolve("sft");
    assertEquals(0, Main.commandLine().execute("sft", "--base", base.toString(), "--data", data.toString(), "--field", "text",
        "--seq-len", "32", "--epochs", "1", "--batch", "4", "--rank", "4", "--alpha", "8", "--out", out.toString()));
    Path config = out.resolve("adapter/adapter_config.json");
    assertTrue(Files.isRegularFile(config), "no " + config);
    JsonObject peft = JsonParser.parseString(Files.readString(config)).getAsJsonObject();
    assertEquals(4, peft.get("r").getAsInt());
    assertEquals(8.0, peft.get("lora_alpha").getAsDouble());
  }
}
