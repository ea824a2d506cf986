package dev.resa.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
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
import java.util.Comparator;
import java.util.LinkedHashMap;
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
  private static final long MAX_HEADER = 100L << 20;
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
        case "F32", "BF16", "F16", "F64" -> array = manager.create(readFloats(name), e.djlShape());
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

  /** Opens and validates {@code path}; every error names the file and the offending key. */
  public static Reader open(Path path) throws IOException {
    if (!Files.isRegularFile(path)) throw new IOException("safetensors file not found: " + path);
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    try {
      long size = ch.size();
      if (size < 8) throw new IOException(path + ": truncated file (" + size + " bytes; a safetensors file starts with an 8-byte header length)");
      ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lb, 0);
      long headerLen = lb.getLong(0);
      if (headerLen <= 0 || headerLen > MAX_HEADER) {
        throw new IOException(path + ": header length " + headerLen + " is not plausible (file is " + size + " bytes)");
      }
      if (8 + headerLen > size) {
        throw new IOException(path + ": header length " + headerLen + " runs past the end of the file (" + size + " bytes)");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
      readFully(ch, hb, 8);
      JsonObject header;
      try {
        header = JsonParser.parseString(new String(hb.array(), StandardCharsets.UTF_8)).getAsJsonObject();
      } catch (JsonParseException | IllegalStateException ex) {
        throw new IOException(path + ": header is not a JSON object: " + ex.getMessage(), ex);
      }
      long dataStart = 8 + headerLen;
      long dataLen = size - dataStart;
      Map<String, Entry> entries = new LinkedHashMap<>();
      Map<String, String> meta = new LinkedHashMap<>();
      for (Map.Entry<String, JsonElement> kv : header.entrySet()) {
        String name = kv.getKey();
        if (name.equals("__metadata__")) {
          for (var m : kv.getValue().getAsJsonObject().entrySet()) meta.put(m.getKey(), m.getValue().getAsString());
          continue;
        }
        entries.put(name, parseEntry(path, name, kv.getValue(), dataLen));
      }
      checkNoOverlap(path, entries);
      return new Reader(path, ch, dataStart, entries, meta);
    } catch (IOException | RuntimeException ex) {
      ch.close();
      throw ex;
    }
  }

  private static Entry parseEntry(Path path, String name, JsonElement value, long dataLen) throws IOException {
    String where = path + ": tensor '" + name + "'";
    if (!value.isJsonObject()) throw new IOException(where + ": header entry is not an object");
    JsonObject t = value.getAsJsonObject();
    if (!t.has("dtype") || !t.has("shape") || !t.has("data_offsets")) {
      throw new IOException(where + ": header entry needs dtype, shape and data_offsets");
    }
    String dtype = t.get("dtype").getAsString();
    int width = dtypeBytes(dtype);
    if (width < 0) throw new IOException(where + ": unknown dtype '" + dtype + "'");
    JsonArray shapeJson = t.getAsJsonArray("shape");
    long[] shape = new long[shapeJson.size()];
    long numel = 1;
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeJson.get(i).getAsLong();
      if (shape[i] < 0) throw new IOException(where + ": negative dimension in shape " + shapeJson);
      numel = Math.multiplyExact(numel, shape[i]);
    }
    JsonArray off = t.getAsJsonArray("data_offsets");
    if (off.size() != 2) throw new IOException(where + ": data_offsets must have two entries");
    long begin = off.get(0).getAsLong();
    long end = off.get(1).getAsLong();
    if (begin < 0 || end < begin || end > dataLen) {
      throw new IOException(where + ": data_offsets [" + begin + ", " + end + "] out of range (data section is " + dataLen + " bytes)");
    }
    if (end - begin != numel * width) {
      throw new IOException(where + ": " + dtype + " x shape " + Arrays.toString(shape) + " needs " + numel * width
          + " bytes but data_offsets span " + (end - begin));
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  private static void checkNoOverlap(Path path, Map<String, Entry> entries) throws IOException {
    List<Entry> sorted = new ArrayList<>(entries.values());
    sorted.sort(Comparator.comparingLong(Entry::begin));
    for (int i = 1; i < sorted.size(); i++) {
      Entry a = sorted.get(i - 1), b = sorted.get(i);
      if (b.begin() < a.end()) {
        throw new IOException(path + ": tensors '" + a.name() + "' and '" + b.name() + "' overlap in the data section");
      }
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

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos + buf.position());
      if (n < 0) throw new IOException("unexpected end of file");
    }
  }

  // ---------------------------------------------------------------- writing

  /** Target precision of floating tensors when writing. */
  public enum FloatFormat { F32, BF16 }

  /**
   * Writes {@code tensors} (name to NDArray, in map order) to {@code path} atomically: a temp file in the same
   * folder, fsync, then rename. Float arrays are stored as {@code format}; int64/int32 keep their type.
   */
  public static void write(Path path, Map<String, NDArray> tensors, Map<String, String> metadata, FloatFormat format) throws IOException {
    JsonObject header = new JsonObject();
    if (metadata != null && !metadata.isEmpty()) {
      JsonObject m = new JsonObject();
      metadata.forEach(m::addProperty);
      header.add("__metadata__", m);
    }
    List<byte[]> blobs = new ArrayList<>();
    long offset = 0;
    for (Map.Entry<String, NDArray> kv : tensors.entrySet()) {
      NDArray a = kv.getValue();
      String dtype;
      byte[] data;
      DataType t = a.getDataType();
      if (t.isFloating()) {
        float[] f = a.getDataType() == DataType.FLOAT32 ? a.toFloatArray() : a.toType(DataType.FLOAT32, false).toFloatArray();
        if (format == FloatFormat.BF16) {
          dtype = "BF16";
          data = toBf16(f);
        } else {
          dtype = "F32";
          ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
          b.asFloatBuffer().put(f);
          data = b.array();
        }
      } else if (t == DataType.INT64) {
        dtype = "I64";
        long[] v = a.toLongArray();
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(v);
        data = b.array();
      } else if (t == DataType.INT32) {
        dtype = "I32";
        int[] v = a.toIntArray();
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(v);
        data = b.array();
      } else {
        throw new IllegalArgumentException("cannot write tensor '" + kv.getKey() + "' of type " + t);
      }
      JsonObject e = new JsonObject();
      e.addProperty("dtype", dtype);
      JsonArray shape = new JsonArray();
      for (long s : a.getShape().getShape()) shape.add(s);
      e.add("shape", shape);
      JsonArray off = new JsonArray();
      off.add(offset);
      off.add(offset + data.length);
      e.add("data_offsets", off);
      header.add(kv.getKey(), e);
      blobs.add(data);
      offset += data.length;
    }
    byte[] h = GSON.toJson(header).getBytes(StandardCharsets.UTF_8);
    int pad = (8 - (h.length % 8)) % 8; // keep the data section 8-byte aligned, as the HF writer does
    byte[] headerBytes = Arrays.copyOf(h, h.length + pad);
    Arrays.fill(headerBytes, h.length, headerBytes.length, (byte) ' ');
    AtomicFiles.write(path, out -> {
      ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerBytes.length);
      out.write(lb.array());
      out.write(headerBytes);
      for (byte[] b : blobs) out.write(b);
    });
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
