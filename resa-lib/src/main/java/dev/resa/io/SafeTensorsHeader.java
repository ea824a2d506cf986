package dev.resa.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.resa.io.SafeTensors.Entry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors header, read and validated against the format: a plausible length, a JSON object, string-only
 * {@code __metadata__}, entries with a known dtype, natural shapes whose byte count fits 64 bits and offsets that
 * match them, and tensors that tile the data section exactly. Every error is one line naming the file and the key.
 *
 * @param dataStart byte offset of the data section in the file (8 + header length).
 * @param entries the tensors in header order.
 * @param metadata {@code __metadata__}, empty when absent.
 */
record SafeTensorsHeader(long dataStart, Map<String, Entry> entries, Map<String, String> metadata) {
  /** Larger headers are refused before they are read (the reference reader's limit). */
  private static final long MAX_HEADER = 100L << 20;

  /** Reads and validates the header of {@code path}, open as {@code ch}. */
  static SafeTensorsHeader read(Path path, FileChannel ch) throws IOException {
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
        meta.putAll(parseMetadata(path, kv.getValue()));
        continue;
      }
      entries.put(name, parseEntry(path, name, kv.getValue(), dataLen));
    }
    checkCoverage(path, entries, dataLen);
    return new SafeTensorsHeader(dataStart, entries, meta);
  }

  /** {@code __metadata__} must be an object of strings (the format says so; HF's reader rejects anything else). */
  private static Map<String, String> parseMetadata(Path path, JsonElement value) throws IOException {
    if (!value.isJsonObject()) throw new IOException(path + ": __metadata__ must be an object of strings, got " + brief(value));
    Map<String, String> meta = new LinkedHashMap<>();
    for (var m : value.getAsJsonObject().entrySet()) {
      JsonElement v = m.getValue();
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
        throw new IOException(path + ": __metadata__ key '" + m.getKey() + "' must map to a string, got " + brief(v));
      }
      meta.put(m.getKey(), v.getAsString());
    }
    return meta;
  }

  private static Entry parseEntry(Path path, String name, JsonElement value, long dataLen) throws IOException {
    String where = path + ": tensor '" + name + "'";
    if (!value.isJsonObject()) throw new IOException(where + ": header entry is not an object but " + brief(value));
    JsonObject t = value.getAsJsonObject();
    if (!t.has("dtype") || !t.has("shape") || !t.has("data_offsets")) {
      throw new IOException(where + ": header entry needs dtype, shape and data_offsets");
    }
    JsonElement dtypeJson = t.get("dtype");
    if (!dtypeJson.isJsonPrimitive() || !dtypeJson.getAsJsonPrimitive().isString()) {
      throw new IOException(where + ": dtype must be a string, got " + brief(dtypeJson));
    }
    String dtype = dtypeJson.getAsString();
    int width = SafeTensors.dtypeBytes(dtype);
    if (width < 0) throw new IOException(where + ": unknown dtype '" + dtype + "'");
    long[] shape = naturals(where, "shape", t.get("shape"), -1);
    long numel = 1;
    try {
      for (long d : shape) numel = Math.multiplyExact(numel, d);
      Math.multiplyExact(numel, width);
    } catch (ArithmeticException overflow) {
      throw new IOException(where + ": shape " + Arrays.toString(shape) + " has more elements than a 64-bit byte count can hold");
    }
    long[] off = naturals(where, "data_offsets", t.get("data_offsets"), 2);
    long begin = off[0];
    long end = off[1];
    if (end < begin || end > dataLen) {
      throw new IOException(where + ": data_offsets [" + begin + ", " + end + "] out of range (data section is " + dataLen + " bytes)");
    }
    if (end - begin != numel * width) {
      throw new IOException(where + ": " + dtype + " x shape " + Arrays.toString(shape) + " needs " + numel * width
          + " bytes but data_offsets span " + (end - begin));
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  /** A JSON array of non-negative integers ({@code size} of them, or any number when -1), or a named error. */
  private static long[] naturals(String where, String key, JsonElement json, int size) throws IOException {
    if (!json.isJsonArray()) throw new IOException(where + ": " + key + " must be an array of integers, got " + brief(json));
    JsonArray a = json.getAsJsonArray();
    if (size >= 0 && a.size() != size) throw new IOException(where + ": " + key + " must have " + size + " entries, got " + a.size());
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      JsonElement e = a.get(i);
      java.math.BigDecimal v = e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? e.getAsBigDecimal() : null;
      if (v == null || v.signum() < 0 || v.stripTrailingZeros().scale() > 0 || v.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
        throw new IOException(where + ": " + key + " " + a + " must hold non-negative 64-bit integers (entry " + i + " is " + e + ")");
      }
      out[i] = v.longValueExact();
    }
    return out;
  }

  /** A JSON value shortened for an error message. */
  private static String brief(JsonElement v) {
    String s = String.valueOf(v);
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }

  /**
   * The tensors must tile the data section exactly, in offset order: no overlap, no hole and no trailing bytes
   * (the safetensors specification, enforced by the reference Rust reader). A hole means a writer bug or a
   * file edited by hand, and its bytes would silently belong to no tensor.
   */
  private static void checkCoverage(Path path, Map<String, Entry> entries, long dataLen) throws IOException {
    List<Entry> sorted = new ArrayList<>(entries.values());
    sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long covered = 0;
    String previous = null;
    for (Entry e : sorted) {
      if (e.begin() < covered) {
        throw new IOException(path + ": tensors '" + previous + "' and '" + e.name() + "' overlap in the data section");
      }
      if (e.begin() > covered) {
        throw new IOException(path + ": bytes [" + covered + ", " + e.begin() + ") of the data section belong to no tensor (hole before '"
            + e.name() + "'); the tensors must cover the data section exactly");
      }
      covered = e.end();
      previous = e.name();
    }
    if (covered != dataLen) {
      throw new IOException(path + ": the data section is " + dataLen + " bytes but the tensors cover only " + covered
          + (previous == null ? "" : " (last tensor '" + previous + "')") + "; the tensors must cover the data section exactly");
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos + buf.position());
      if (n < 0) throw new IOException("unexpected end of file");
    }
  }
}
