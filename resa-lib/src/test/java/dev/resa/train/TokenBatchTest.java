package dev.resa.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDManager;
import dev.resa.testing.Managed;
import dev.resa.tokenizer.CharTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which targets a (prompt, completion) batch trains: the completion only, or the whole text. */
class TokenBatchTest {
  static final CharTokenizer TOK = new CharTokenizer("0123456789+=");
  static final List<String[]> PAIRS = List.of(new String[] {"1+1=", "2"}, new String[] {"2=", "22"});
  @Managed NDManager root;

  @Test
  void completionCoverageMasksThePrompt() {
    TokenBatch b = TokenBatch.pairs(root, TOK, PAIRS);
    // row 0: <bos> 1 + 1 = 2 <eos>; targets 1 + 1 = 2 <eos>: the last two are the completion and EOS
    // row 1: <bos> 2 = 2 2 <eos> <pad>; targets 2 = 2 2 <eos> <pad>
    assertArrayEquals(new float[] {0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0}, b.targetMask().toFloatArray());
  }

  @Test
  void wholeTextCoverageTrainsEveryRealTargetAfterBos() {
    TokenBatch b = TokenBatch.pairs(root, TOK, PAIRS, TokenBatch.Coverage.WHOLE_TEXT);
    assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}, b.targetMask().toFloatArray());
    TokenBatch fromBatches = Batches.pairs(TOK, 3, rng -> PAIRS, TokenBatch.Coverage.WHOLE_TEXT).at(0, root);
    assertArrayEquals(b.targetMask().toFloatArray(), fromBatches.targetMask().toFloatArray());
    assertArrayEquals(TokenBatch.pairs(root, TOK, PAIRS).tokens().toLongArray(), b.tokens().toLongArray(), "same tokens, only the mask differs");
  }
}
