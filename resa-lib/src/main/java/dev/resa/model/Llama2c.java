package dev.resa.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Loads Karpathy's llama2.c "legacy" (version 0) checkpoints, e.g. {@code stories260K.bin}: seven int32 header
 * fields, then float32 tensors in a fixed order. Weights keep llama2.c's adjacent-pair RoPE convention
 * ({@link ModelConfig.Rope#INTERLEAVED}); nothing is permuted.
 */
public final class Llama2c {
  private Llama2c() {}

  public static DecoderLM load(Path file, NDManager manager) throws IOException {
    if (!Files.isRegularFile(file)) throw new IOException("llama2.c checkpoint not found: " + file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 28) throw new IOException(file + ": truncated llama2.c header (" + size + " bytes)");
      ByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
      int dim = buf.getInt(), hidden = buf.getInt(), layers = buf.getInt(), heads = buf.getInt();
      int kvHeads = buf.getInt(), vocabSigned = buf.getInt(), seqLen = buf.getInt();
      boolean shared = vocabSigned > 0;
      int vocab = Math.abs(vocabSigned);
      if (dim <= 0 || heads <= 0 || kvHeads <= 0 || layers <= 0 || dim % heads != 0) {
        throw new IOException(file + ": implausible llama2.c header dim=" + dim + " heads=" + heads + " kv_heads=" + kvHeads + " layers=" + layers);
      }
      int headDim = dim / heads;
      long kvDim = (long) kvHeads * headDim;
      long floats = (long) vocab * dim + layers * (2L * dim + (long) dim * dim * 2 + 2 * kvDim * dim + 3L * hidden * dim)
          + dim + (long) seqLen * headDim + (shared ? 0 : (long) vocab * dim);
      if (28 + floats * 4 > size) {
        throw new IOException(file + ": file is " + size + " bytes but the header implies at least " + (28 + floats * 4));
      }
      ModelConfig c = ModelConfig.builder(ModelConfig.Architecture.LLAMA).hiddenSize(dim).numLayers(layers).numHeads(heads)
          .numKvHeads(kvHeads).headDim(headDim).intermediateSize(hidden).vocabSize(vocab).rmsEps(1e-5).tieEmbeddings(shared)
          .maxPositions(seqLen).rope(ModelConfig.Rope.INTERLEAVED).bosTokenId(1).eosTokenId(2).build();
      FloatBuffer f = buf.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      Weights w = new Weights(manager.newSubManager()); // the model owns (and closes) only its own arrays
      w.put("model.embed_tokens.weight", read(manager, f, vocab, dim));
      float[][] rmsAtt = perLayer(f, layers, dim);
      float[][] wq = perLayer(f, layers, (long) dim * dim);
      float[][] wk = perLayer(f, layers, kvDim * dim);
      float[][] wv = perLayer(f, layers, kvDim * dim);
      float[][] wo = perLayer(f, layers, (long) dim * dim);
      float[][] rmsFfn = perLayer(f, layers, dim);
      float[][] w1 = perLayer(f, layers, (long) hidden * dim);
      float[][] w2 = perLayer(f, layers, (long) dim * hidden);
      float[][] w3 = perLayer(f, layers, (long) hidden * dim);
      for (int l = 0; l < layers; l++) {
        String p = "model.layers." + l + ".";
        w.put(p + "input_layernorm.weight", manager.create(rmsAtt[l], new Shape(dim)));
        w.put(p + "self_attn.q_proj.weight", manager.create(wq[l], new Shape(dim, dim)));
        w.put(p + "self_attn.k_proj.weight", manager.create(wk[l], new Shape(kvDim, dim)));
        w.put(p + "self_attn.v_proj.weight", manager.create(wv[l], new Shape(kvDim, dim)));
        w.put(p + "self_attn.o_proj.weight", manager.create(wo[l], new Shape(dim, dim)));
        w.put(p + "post_attention_layernorm.weight", manager.create(rmsFfn[l], new Shape(dim)));
        w.put(p + "mlp.gate_proj.weight", manager.create(w1[l], new Shape(hidden, dim)));
        w.put(p + "mlp.up_proj.weight", manager.create(w3[l], new Shape(hidden, dim)));
        w.put(p + "mlp.down_proj.weight", manager.create(w2[l], new Shape(dim, hidden)));
      }
      w.put("model.norm.weight", read(manager, f, 1, dim).reshape(dim));
      f.position(f.position() + seqLen * headDim); // freq_cis_real + freq_cis_imag (seqLen * headDim/2 each): recomputed
      if (!shared) w.put("lm_head.weight", read(manager, f, vocab, dim));
      return new DecoderLM(c, w);
    }
  }

  private static ai.djl.ndarray.NDArray read(NDManager m, FloatBuffer f, long rows, long cols) {
    float[] a = new float[Math.toIntExact(rows * cols)];
    f.get(a);
    return m.create(a, new Shape(rows, cols));
  }

  private static float[][] perLayer(FloatBuffer f, int layers, long each) {
    float[][] out = new float[layers][Math.toIntExact(each)];
    for (int l = 0; l < layers; l++) f.get(out[l]);
    return out;
  }
}
