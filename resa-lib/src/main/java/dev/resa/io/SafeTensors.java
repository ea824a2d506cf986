package dev.resa.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format, read memory-mapped and validated, written atomically.
 *
 * <p>Why not DJL's {@code NDList.decode}: it copies the whole file through one {@code byte[]} (fails past
 * 2 GB), and a BF16 tensor makes the PyTorch engine abort the JVM. Here BF16 and F16 are widened to F32 in
 * Java, so no half-precision NDArray is ever created.
 *
 * <p>The layout is an 8-byte little-endian header length, a JSON header mapping names to
 * {@code {dtype, shape, data_offsets}}, then the raw little-endian data section.
 */
public final class SafeTensors {
  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  private SafeTensors() {}

  /** One tensor's header entry: offsets are relative to the start of the data section. */
  public record Entry(String name, String dtype, long[] shape, long begin, long end) {
    public long numel() {
      long n = 1;
      for (long s : shape) n *= s;
      return n;
    }

    public Shape djlShape() {
      return new Shape(shape);
    }
  }

  /** An open, validated safetensors file. Close it to release the mapping's channel. */
  public static final class Reader implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private Reader(Path path, FileChannel channel, long dataStart, Map<String, Entry> entries, Map<String, String> metadata) {
      this.path = path;
      this.channel = channel;
      this.dataStart = dataStart;
      this.entries = entries;
      this.metadata = metadata;
    }

    public Path path() {
      return path;
    }

    /** Tensor entries in file order. */
    public Map<String, Entry> entries() {
      return entries;
    }

    /** The optional {@code __metadata__} string map. */
    public Map<String, String> metadata() {
      return metadata;
    }

    public boolean contains(String name) {
      return entries.containsKey(name);
    }

    public Entry entry(String name) {
      Entry e = entries.get(name);
      if (e == null) {
        throw new IllegalArgumentException(path + ": missing tensor '" + name + "' (file has " + entries.size() + " tensors"
            + (entries.isEmpty() ? "" : ", e.g. '" + entries.keySet().iterator().next() + "'") + ")");
      }
      return e;
    }

    /** Reads a floating tensor widened to float32 values (F32, F16, BF16 and F64 accepted). */
    public float[] readFloats(String name) throws IOException {
      Entry e = entry(name);
      ByteBuffer b = map(e);
      int n = Math.toIntExact(e.numel());
      float[] out = new float[n];
      switch (e.dtype()) {
        case "F32" -> b.asFloatBuffer().get(out);
        case "BF16" -> {
          var s = b.asShortBuffer();
          for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((s.get(i) & 0xFFFF) << 16);
        }
        case "F16" -> {
          var s = b.asShortBuffer();
          for (int i = 0; i < n; i++) out[i] = halfToFloat(s.get(i));
        }
        case "F64" -> {
          var d = b.asDoubleBuffer();
          for (int i = 0; i < n; i++) out[i] = (float) d.get(i);
        }
        default -> throw new IllegalArgumentException(path + ": tensor '" + name + "' has dtype " + e.dtype() + ", expected a float type");
      }
      return out;
    }

    /** Reads a tensor into {@code manager}: floats become F32, integers keep their type. */
    public NDArray read(NDManager manager, String name) throws IOException {
      Entry e = entry(name);
      NDArray array;
      switch (e.dtype()) {
        case "F32", "BF16", "F16", "F64" -> array = manager.create(widened(e), e.djlShape(), DataType.FLOAT32);
        case "I64" -> {
          long[] v = new long[Math.toIntExact(e.numel())];
          map(e).asLongBuffer().get(v);
          array = manager.create(v, e.djlShape());
        }
        case "I32" -> {
          int[] v = new int[Math.toIntExact(e.numel())];
          map(e).asIntBuffer().get(v);
          array = manager.create(v, e.djlShape());
        }
        case "U8", "I8", "BOOL" -> {
          byte[] v = new byte[Math.toIntExact(e.numel())];
          map(e).get(v);
          DataType t = e.dtype().equals("U8") ? DataType.UINT8 : e.dtype().equals("I8") ? DataType.INT8 : DataType.BOOLEAN;
          array = manager.create(ByteBuffer.wrap(v), e.djlShape(), t);
        }
        default -> throw new IllegalArgumentException(path + ": tensor '" + name + "' has unsupported dtype " + e.dtype());
      }
      array.setName(name);
      return array;
    }

    /**
     * A floating tensor widened to float32 straight from the mapping into a native-order direct buffer, which DJL
     * wraps without copying ({@code from_blob}). So the weights exist once, outside the Java heap: no
     * {@code float[]} on the heap next to the native copy (a {@code float[]} route would hold a 1.5B model twice
     * until the garbage collector runs). Direct buffers count against {@code -XX:MaxDirectMemorySize}.
     */
    private ByteBuffer widened(Entry e) throws IOException {
      ByteBuffer src = map(e);
      int n = Math.toIntExact(e.numel());
      if ((long) n * 4 > Integer.MAX_VALUE) {
        throw new IOException(path + ": tensor '" + e.name() + "' has " + n + " elements; float32 tensors over 2 GiB are not supported");
      }
      ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
      var dst = out.asFloatBuffer();
      switch (e.dtype()) {
        case "F32" -> dst.put(src.asFloatBuffer());
        case "BF16" -> {
          var s = src.asShortBuffer();
          for (int i = 0; i < n; i++) dst.put(i, Float.intBitsToFloat((s.get(i) & 0xFFFF) << 16));
        }
        case "F16" -> {
          var s = src.asShortBuffer();
          for (int i = 0; i < n; i++) dst.put(i, halfToFloat(s.get(i)));
        }
        case "F64" -> {
          var d = src.asDoubleBuffer();
          for (int i = 0; i < n; i++) dst.put(i, (float) d.get(i));
        }
        default -> throw new IllegalArgumentException(path + ": tensor '" + e.name() + "' has dtype " + e.dtype() + ", expected a float type");
      }
      return out;
    }

    private ByteBuffer map(Entry e) throws IOException {
      long length = e.end() - e.begin();
      if (length > Integer.MAX_VALUE) {
        throw new IOException(path + ": tensor '" + e.name() + "' is " + length + " bytes; tensors over 2 GiB are not supported");
      }
      MappedByteBuffer b = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin(), length);
      return b.order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  /** Opens and validates {@code path}; every error names the file and the offending key ({@link SafeTensorsHeader}). */
  public static Reader open(Path path) throws IOException {
    if (!Files.isRegularFile(path)) throw new IOException("safetensors file not found: " + path);
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    try {
      SafeTensorsHeader h = SafeTensorsHeader.read(path, ch);
      return new Reader(path, ch, h.dataStart(), h.entries(), h.metadata());
    } catch (IOException | RuntimeException ex) {
      ch.close();
      throw ex;
    }
  }

  /** Bytes per element of a safetensors dtype, or -1 when unknown. */
  public static int dtypeBytes(String dtype) {
    return switch (dtype) {
      case "F64", "I64", "U64" -> 8;
      case "F32", "I32", "U32" -> 4;
      case "F16", "BF16", "I16", "U16" -> 2;
      case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
      default -> -1;
    };
  }

  // ---------------------------------------------------------------- writing

  /** Target precision of floating tensors when writing. */
  public enum FloatFormat { F32, BF16 }

  /** A tensor to be written: its name, safetensors dtype and shape; the bytes come later from a {@link Source}. */
  public record Layout(String name, String dtype, long[] shape) {
    public long bytes() {
      long n = dtypeBytes(dtype);
      for (long d : shape) n = Math.multiplyExact(n, d);
      return n;
    }
  }

  /** Writes one tensor's little-endian bytes, exactly {@link Layout#bytes()} of them. */
  @FunctionalInterface
  public interface Source {
    void write(Layout tensor, OutputStream out) throws IOException;
  }

  /**
   * Streams a file: the header from {@code tensors}, then each tensor's bytes from {@code source}, so a file larger
   * than memory (a 1.5B-parameter checkpoint) is written without holding it. Atomic, as every write here.
   */
  public static void write(Path path, List<Layout> tensors, Map<String, String> metadata, Source source) throws IOException {
    JsonObject header = new JsonObject();
    if (metadata != null && !metadata.isEmpty()) {
      JsonObject m = new JsonObject();
      metadata.forEach(m::addProperty);
      header.add("__metadata__", m);
    }
    long offset = 0;
    for (Layout t : tensors) {
      if (dtypeBytes(t.dtype()) < 0) throw new IllegalArgumentException("tensor '" + t.name() + "': unknown dtype '" + t.dtype() + "'");
      JsonObject e = new JsonObject();
      e.addProperty("dtype", t.dtype());
      JsonArray shape = new JsonArray();
      for (long d : t.shape()) shape.add(d);
      e.add("shape", shape);
      JsonArray off = new JsonArray();
      off.add(offset);
      off.add(offset + t.bytes());
      e.add("data_offsets", off);
      header.add(t.name(), e);
      offset += t.bytes();
    }
    byte[] h = GSON.toJson(header).getBytes(StandardCharsets.UTF_8);
    int pad = (8 - (h.length % 8)) % 8; // keep the data section 8-byte aligned, as the HF writer does
    byte[] headerBytes = Arrays.copyOf(h, h.length + pad);
    Arrays.fill(headerBytes, h.length, headerBytes.length, (byte) ' ');
    AtomicFiles.write(path, out -> {
      ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerBytes.length);
      out.write(lb.array());
      out.write(headerBytes);
      for (Layout t : tensors) {
        CountingStream counted = new CountingStream(out);
        source.write(t, counted);
        if (counted.count != t.bytes()) {
          throw new IOException(path + ": source wrote " + counted.count + " bytes for tensor '" + t.name() + "', expected " + t.bytes());
        }
      }
    });
  }

  /** Counts what a {@link Source} writes, so a short tensor fails the write instead of shifting every later one. */
  private static final class CountingStream extends java.io.FilterOutputStream {
    long count;

    CountingStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }

  /**
   * Writes {@code tensors} (name to NDArray, in map order) to {@code path} atomically: a temp file in the same
   * folder, fsync, then rename. Float arrays are stored as {@code format}; int64/int32 keep their type.
   */
  public static void write(Path path, Map<String, NDArray> tensors, Map<String, String> metadata, FloatFormat format) throws IOException {
    List<Layout> layouts = new ArrayList<>();
    for (Map.Entry<String, NDArray> kv : tensors.entrySet()) {
      DataType t = kv.getValue().getDataType();
      String dtype;
      if (t.isFloating()) {
        dtype = format == FloatFormat.BF16 ? "BF16" : "F32";
      } else if (t == DataType.INT64) {
        dtype = "I64";
      } else if (t == DataType.INT32) {
        dtype = "I32";
      } else {
        throw new IllegalArgumentException("cannot write tensor '" + kv.getKey() + "' of type " + t);
      }
      layouts.add(new Layout(kv.getKey(), dtype, kv.getValue().getShape().getShape()));
    }
    // one tensor's bytes at a time: a 1.5B model written as F32 never sits in the Java heap whole
    write(path, layouts, metadata, (layout, out) -> out.write(bytes(tensors.get(layout.name()), layout.dtype())));
  }

  /** A tensor's little-endian bytes as {@code dtype} (F32, BF16, I64 or I32). */
  private static byte[] bytes(NDArray a, String dtype) {
    return switch (dtype) {
      case "BF16", "F32" -> {
        float[] f = a.getDataType() == DataType.FLOAT32 ? a.toFloatArray() : a.toType(DataType.FLOAT32, false).toFloatArray();
        if (dtype.equals("BF16")) yield toBf16(f);
        ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        yield b.array();
      }
      case "I64" -> {
        long[] v = a.toLongArray();
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(v);
        yield b.array();
      }
      case "I32" -> {
        int[] v = a.toIntArray();
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(v);
        yield b.array();
      }
      default -> throw new IllegalArgumentException("cannot write dtype " + dtype);
    };
  }

  /** Writes float32 tensors (the common case). */
  public static void write(Path path, Map<String, NDArray> tensors) throws IOException {
    write(path, tensors, Map.of("format", "pt"), FloatFormat.F32);
  }

  /** Rounds float32 to bfloat16 (round-to-nearest-even), little-endian. */
  public static byte[] toBf16(float[] f) {
    ByteBuffer b = ByteBuffer.allocate(f.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : f) {
      int bits = Float.floatToRawIntBits(v);
      int rounded = Float.isNaN(v) ? 0x7FC00000 : bits + 0x7FFF + ((bits >>> 16) & 1);
      b.putShort((short) (rounded >>> 16));
    }
    return b.array();
  }

  /** IEEE 754 binary16 to float32 (Java 17 has no {@code Float.float16ToFloat}). */
  static float halfToFloat(short h) {
    int bits = h & 0xFFFF;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13)); // inf / nan
    if (exp == 0) {
      if (mant == 0) return Float.intBitsToFloat(sign);
      float v = mant / 1024f * (float) Math.pow(2, -14); // subnormal
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** Writes raw bytes of an already-built file (used by tests that corrupt files on purpose). */
  public static void writeRaw(Path path, byte[] bytes) throws IOException {
    AtomicFiles.write(path, (OutputStream out) -> out.write(bytes));
  }
}
