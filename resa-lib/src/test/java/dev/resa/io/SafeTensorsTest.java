package dev.resa.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.resa.core.Djl;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Crafted headers each give one IOException line naming the file (and the key); the streaming writer round-trips. */
class SafeTensorsTest {
  @TempDir Path tmp;

  /** A file from a literal header and {@code dataBytes} zero bytes of data. */
  private Path file(String name, String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    Path p = tmp.resolve(name + ".safetensors");
    Files.write(p, b.array());
    return p;
  }

  private static void assertOneLine(IOException e, Path file, String... parts) {
    String msg = e.getMessage();
    assertTrue(msg.startsWith(file.toString() + ": "), "message does not start with the file: " + msg);
    assertFalse(msg.contains("\n"), "message spans lines: " + msg);
    for (String p : parts) assertTrue(msg.contains(p), "message lacks '" + p + "': " + msg);
  }

  @Test
  void nonStringMetadataValueNamesFileAndKey() throws IOException {
    Path f = file("meta", "{\"__metadata__\":{\"format\":\"pt\",\"step\":12},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    assertOneLine(assertThrows(IOException.class, () -> SafeTensors.open(f)), f, "__metadata__ key 'step'", "string", "12");
    Path g = file("meta2", "{\"__metadata__\":[1,2],\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    assertOneLine(assertThrows(IOException.class, () -> SafeTensors.open(g)), g, "__metadata__ must be an object of strings");
    Path h = file("meta3", "{\"__metadata__\":{\"nested\":{\"a\":\"b\"}},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    assertOneLine(assertThrows(IOException.class, () -> SafeTensors.open(h)), h, "__metadata__ key 'nested'");
  }

  @Test
  void shapeWhoseElementCountOverflowsNamesTheTensor() throws IOException {
    Path f = file("overflow", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8);
    assertOneLine(assertThrows(IOException.class, () -> SafeTensors.open(f)), f, "tensor 'w'", "shape [4294967296, 4294967296]");
    // element count fits in 64 bits but the byte count does not
    Path g = file("overflow2", "{\"w\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}", 8);
    assertOneLine(assertThrows(IOException.class, () -> SafeTensors.open(g)), g, "tensor 'w'", "64-bit");
  }

  @Test
  void holeInTheDataSectionIsRejected() throws IOException {
    // a: bytes [0, 8), b: bytes [16, 24); bytes [8, 16) belong to no tensor
    Path f = file("hole", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]}}", 24);
    assertOneLine(assertThrows(IOException.class, () -> SafeTensors.open(f)), f, "[8, 16)", "hole before 'b'");
    // a hole at the start
    Path g = file("hole0", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16);
    assertOneLine(assertThrows(IOException.class, () -> SafeTensors.open(g)), g, "[0, 8)", "hole before 'a'");
    // trailing bytes after the last tensor
    Path h = file("tail", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12);
    assertOneLine(assertThrows(IOException.class, () -> SafeTensors.open(h)), h, "12 bytes", "cover only 8", "'a'");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "overlap        | {\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}} | 12 | overlap",
      "dtypeNumber    | {\"w\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}                | 8  | dtype must be a string",
      "dtypeObject    | {\"w\":{\"dtype\":{\"x\":1},\"shape\":[2],\"data_offsets\":[0,8]}}       | 8  | dtype must be a string",
      "shapeString    | {\"w\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}       | 8  | shape must be an array",
      "shapeFraction  | {\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}       | 8  | non-negative 64-bit integers",
      "shapeNegative  | {\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}        | 8  | non-negative 64-bit integers",
      "shapeNull      | {\"w\":{\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,8]}}      | 8  | non-negative 64-bit integers",
      "shapeHuge      | {\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}} | 8 | non-negative 64-bit integers",
      "offsetsThree   | {\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}        | 8  | data_offsets must have 2 entries",
      "offsetsString  | {\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",\"8\"]}}  | 8  | non-negative 64-bit integers",
      "offsetsReverse | {\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}          | 8  | out of range",
      "sizeMismatch   | {\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}          | 8  | needs 12 bytes",
      "entryNotObject | {\"w\":[1,2]}                                                          | 8  | not an object",
      "missingKeys    | {\"w\":{\"dtype\":\"F32\"}}                                            | 8  | needs dtype, shape and data_offsets",
      "unknownDtype   | {\"w\":{\"dtype\":\"F7\",\"shape\":[2],\"data_offsets\":[0,8]}}           | 8  | unknown dtype 'F7'",
      "headerArray    | [1,2,3]                                                                | 8  | not a JSON object",
      "headerGarbage  | {\"w\":                                                                | 8  | not a JSON object",
  })
  void everyMalformedHeaderIsOneNamedLine(String name, String header, int dataBytes, String expected) throws IOException {
    Path f = file(name, header.strip(), dataBytes);
    assertOneLine(assertThrows(IOException.class, () -> SafeTensors.open(f)), f, expected.strip());
  }

  @Test
  void zeroSizedTensorsAndExactCoverageAreAccepted() throws IOException {
    Path f = file("ok", "{\"__metadata__\":{\"format\":\"pt\"},\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
        + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[8,11]}}", 11);
    try (SafeTensors.Reader r = SafeTensors.open(f)) {
      assertEquals(3, r.entries().size());
      assertEquals(Map.of("format", "pt"), r.metadata());
    }
  }

  /** The streaming writer's file reads back through the mapped, direct-buffer path with BF16 widened exactly. */
  @Test
  void streamedBf16ReadsBackWidenedIntoNativeMemory() throws IOException {
    float[] values = {1.5f, -0.29296875f, -2.171875f, 0f, 1e-3f, 65504f};
    byte[] bf16 = SafeTensors.toBf16(values);
    Path f = tmp.resolve("stream.safetensors");
    List<SafeTensors.Layout> layouts = List.of(new SafeTensors.Layout("w", "BF16", new long[] {2, 3}),
        new SafeTensors.Layout("x", "F32", new long[] {2}));
    SafeTensors.write(f, layouts, Map.of("format", "pt"), (t, out) -> {
      if (t.name().equals("w")) {
        out.write(bf16);
      } else {
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(3.25f).putFloat(-7f).array());
      }
    });
    try (NDManager m = Djl.newManager(Device.cpu()); SafeTensors.Reader r = SafeTensors.open(f)) {
      NDArray w = r.read(m, "w");
      assertEquals(DataType.FLOAT32, w.getDataType());
      assertArrayEquals(new long[] {2, 3}, w.getShape().getShape());
      float[] expected = new float[values.length];
      ByteBuffer b = ByteBuffer.wrap(bf16).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < expected.length; i++) expected[i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xFFFF) << 16);
      assertArrayEquals(expected, w.toFloatArray());
      assertEquals(1.5f, w.toFloatArray()[0]); // exactly representable in bf16
      assertArrayEquals(new float[] {3.25f, -7f}, r.read(m, "x").toFloatArray());
      NDArray doubled = r.read(m, "x").mul(2); // the wrapped buffer is writable memory torch computes on
      assertArrayEquals(new float[] {6.5f, -14f}, doubled.toFloatArray());
    }
  }

  @Test
  void aSourceThatWritesTooFewBytesFailsTheWrite() {
    Path f = tmp.resolve("short.safetensors");
    List<SafeTensors.Layout> layouts = List.of(new SafeTensors.Layout("w", "F32", new long[] {4}));
    IOException e = assertThrows(IOException.class, () -> SafeTensors.write(f, layouts, Map.of(), (t, out) -> out.write(new byte[12])));
    assertTrue(e.getMessage().contains("wrote 12 bytes for tensor 'w', expected 16"), e.getMessage());
    assertFalse(Files.exists(f), "a failed write must leave no file");
  }
}
