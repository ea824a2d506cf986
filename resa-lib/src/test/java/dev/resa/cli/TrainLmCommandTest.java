package dev.resa.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resa.io.SafeTensors;
import dev.resa.model.ModelConfig;
import dev.resa.model.Weights;
import dev.resa.train.LmTrainer;
import dev.resa.train.TrainLog;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainLmCommandTest {
  @Test
  void trainsWritesAnHfFolderAndResumes(@TempDir Path dir) throws Exception {
    System.setProperty("resa.progress.off", "true");
    Path data = SumsCorpus.write(dir.resolve("corpus.jsonl"), 200);
    Path out = dir.resolve("model");
    assertEquals(0, SumsCorpus.trainTinyLm(data, out, "--warmup", "2", "--steps", "4"));

    ModelConfig c = ModelConfig.readHf(out.resolve("config.json"));
    assertEquals(32, c.hiddenSize());
    assertEquals(2, c.numLayers());
    try (SafeTensors.Reader r = SafeTensors.open(out.resolve("model.safetensors"))) {
      for (String name : Weights.names(c)) {
        assertTrue(r.contains(name), "model.safetensors lacks " + name);
        assertEquals(Weights.expectedShape(c, name), r.entry(name).djlShape(), name);
      }
    }
    assertTrue(Files.isRegularFile(out.resolve(TrainLmCommand.CHAR_TOKENIZER_FILE)));
    assertTrue(Files.isRegularFile(out.resolve(LmTrainer.STATE_FILE)));
    assertEquals(4, TrainLog.load(out.resolve("train_log.csv")).rows());

    assertEquals(0, SumsCorpus.trainTinyLm(data, out, "--warmup", "2", "--steps", "6", "--resume"));
    TrainLog log = TrainLog.load(out.resolve("train_log.csv"));
    assertEquals(6, log.rows());
    assertEquals(6, log.table().intColumn("step").getInt(5));
  }
}
