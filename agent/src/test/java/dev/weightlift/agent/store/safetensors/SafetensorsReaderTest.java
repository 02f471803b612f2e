package dev.weightlift.agent.store.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SafetensorsReaderTest {

    @TempDir
    Path dir;

    /** The dtype table of safetensors' {@code Dtype::bitsize} (safetensors/src/tensor.rs). */
    private static final Map<String, Integer> SAFETENSORS_BITS = new LinkedHashMap<>();

    static {
        for (String entry : ("BOOL=8 F4=4 F6_E2M3=6 F6_E3M2=6 U8=8 I8=8 F8_E5M2=8 F8_E4M3=8 F8_E8M0=8 F8_E4M3FNUZ=8"
                + " F8_E5M2FNUZ=8 I16=16 U16=16 F16=16 BF16=16 I32=32 U32=32 F32=32 C64=64 F64=64 I64=64 U64=64")
                .split(" ")) {
            String[] kv = entry.split("=");
            SAFETENSORS_BITS.put(kv[0], Integer.parseInt(kv[1]));
        }
    }

    @Test
    void theDtypeTableMatchesSafetensors() {
        Map<String, Integer> ours = Arrays.stream(Dtype.values())
                .collect(Collectors.toMap(Dtype::name, Dtype::bits, (a, b) -> a, LinkedHashMap::new));
        assertEquals(SAFETENSORS_BITS, ours);
    }

    @Test
    void everyDtypeReadsBackWithItsSize() throws IOException {
        TestSafetensors writer = new TestSafetensors();
        Random random = new Random(7);
        for (Dtype dtype : Dtype.values()) {
            writer.add("t." + dtype, dtype, new long[] {2, 4}, random);
        }
        SafetensorsHeader header = SafetensorsReader.read(writer.write(dir.resolve("all.safetensors")));
        assertEquals(Dtype.values().length, header.tensors().size());
        for (TensorInfo tensor : header.tensors()) {
            Dtype dtype = Dtype.valueOf(tensor.name().substring(2));
            assertEquals(dtype, tensor.dtype());
            assertEquals(8L * SAFETENSORS_BITS.get(dtype.name()) / 8, tensor.nbytes(), tensor.name());
            assertArrayEquals(new long[] {2, 4}, tensor.shape());
        }
    }

    @Test
    void aGoldenFileReadsBackExactly() throws IOException {
        byte[] a = new byte[24];
        byte[] b = new byte[6];
        new Random(1).nextBytes(a);
        TestSafetensors writer = new TestSafetensors().metadata(Map.of("format", "pt"))
                .add("model.embed.weight", "F32", new long[] {2, 3}, a)
                .add("model.scalar", "BF16", new long[] {}, new byte[] {1, 2})
                .add("model.empty", "F16", new long[] {0, 5}, new byte[0])
                .add("model.mask", "BOOL", new long[] {6}, b);
        Path file = writer.write(dir.resolve("golden.safetensors"));
        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8);
        SafetensorsHeader header = SafetensorsReader.read(file);
        assertEquals(file.toString(), header.file());
        assertEquals(8 + headerLength, header.dataStart());
        assertEquals(32, header.dataLength());
        assertEquals(Map.of("format", "pt"), header.metadata());
        assertEquals(List.of(new TensorInfo("model.embed.weight", Dtype.F32, new long[] {2, 3}, 0, 24),
                new TensorInfo("model.scalar", Dtype.BF16, new long[] {}, 24, 26),
                new TensorInfo("model.empty", Dtype.F16, new long[] {0, 5}, 26, 26),
                new TensorInfo("model.mask", Dtype.BOOL, new long[] {6}, 26, 32)), header.tensors());
        assertArrayEquals(Arrays.copyOfRange(bytes, (int) header.dataStart(), (int) header.dataStart() + 24), a);
        SafetensorsHeader inMemory = SafetensorsReader.read("golden", bytes);
        assertEquals(header.tensors(), inMemory.tensors());
        assertEquals(header.dataStart(), inMemory.dataStart());
    }

    @Test
    void tensorsAreOrderedByOffsetWhateverTheHeaderOrder() throws IOException {
        String json = "{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]},"
                + "\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}";
        SafetensorsHeader header = SafetensorsReader.read("f", TestSafetensors.file(json, new byte[4]));
        assertEquals(List.of("a", "b"), header.tensors().stream().map(TensorInfo::name).toList());
    }

    static Stream<Arguments> malformed() {
        String ok = "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
        byte[] eight = new byte[8];
        return Stream.of(
                bad("tiny", new byte[5], null, "fewer than the 8-byte header length"),
                bad("zero length", withLength(0, 16), null, "header length 0 is outside"),
                bad("gigantic length", withLength(1L << 62, 16), null, "header length 4611686018427387904 is outside"),
                bad("negative length", withLength(-1, 16), null, "header length 18446744073709551615 is outside"),
                bad("past end", withLength(4096, 64), null, "header length 4096 passes the end of the file (64 bytes)"),
                bad("not an object", TestSafetensors.file("[1, 2]", new byte[0]), null, "does not start with '{'"),
                bad("broken json", TestSafetensors.file("{\"w\":{\"dtype\":", new byte[0]), null, "not valid JSON"),
                bad("bad utf-8", TestSafetensors.file("{\"w\u0000\":1}", new byte[0]), null, "not valid JSON"),
                bad("invalid utf-8 bytes", invalidUtf8(), null, "not valid JSON"),
                bad("trailing tokens", TestSafetensors.file("{} {}", new byte[0]), null, "not valid JSON"),
                bad("duplicate tensor", TestSafetensors.file("{" + ok + "," + ok + "}", eight), null, "Duplicate field 'w'"),
                bad("deep nesting", TestSafetensors.file("{\"w\":" + "[".repeat(2000) + "]".repeat(2000) + "}",
                        new byte[0]), null, "not valid JSON"),
                bad("metadata not object", TestSafetensors.file("{\"__metadata__\":[]}", new byte[0]), null,
                        "__metadata__ is not an object"),
                bad("metadata value", TestSafetensors.file("{\"__metadata__\":{\"k\":1}}", new byte[0]), null,
                        "__metadata__ value of 'k' is not a string"),
                bad("entry not object", json("\"w\":5", eight), "w", "the entry is not an object"),
                bad("unknown field", json("\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}", eight),
                        "w", "unknown field 'x'"),
                bad("no dtype", json("\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}", eight), "w", "dtype is missing"),
                bad("unknown dtype", json("\"w\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}", eight), "w",
                        "unknown dtype 'F33'"),
                bad("lower-case dtype", json("\"w\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}", eight), "w",
                        "unknown dtype 'f32'"),
                bad("no shape", json("\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}", eight), "w",
                        "shape is missing or not an array"),
                bad("negative dim", json("\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}", eight), "w",
                        "shape[0] = -2 is not a non-negative 64-bit integer"),
                bad("fractional dim", json("\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}", eight),
                        "w", "shape[0] = 1.5 is not"),
                bad("huge dim", json("\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}",
                        eight), "w", "is not a non-negative 64-bit integer"),
                bad("shape overflow", json("\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                        + "\"data_offsets\":[0,8]}", eight), "w", "overflows 64 bits"),
                bad("three offsets", json("\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}", eight), "w",
                        "data_offsets has 3 entries, not 2"),
                bad("reversed offsets", json("\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}", eight), "w",
                        "end before they begin"),
                bad("size mismatch", json("\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}", eight), "w",
                        "shape [3] of F32 needs 12 bytes but data_offsets span 8"),
                bad("odd F4", json("\"w\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,1]}", new byte[1]), "w",
                        "do not fill whole bytes"),
                bad("overlap", json("\"a\":{\"dtype\":\"U8\",\"shape\":[6],\"data_offsets\":[0,6]},"
                        + "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}", eight), "b", "overlaps tensor 'a'"),
                bad("gap", json("\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                        + "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[6,8]}", eight), "b",
                        "leaving 2 bytes after tensor 'a' unused"),
                bad("gap at start", json("\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}", eight), "a",
                        "leaving 4 bytes after the header unused"),
                bad("trailing bytes", json(ok, new byte[12]), "w", "the file has trailing bytes"),
                bad("truncated data", json(ok, new byte[6]), "w", "the file is truncated"),
                bad("data without tensors", TestSafetensors.file("{}", new byte[3]), null,
                        "the tensors cover 0 bytes of the 3-byte data region"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedInputIsRejectedNamingFileTensorAndProblem(String caseName, byte[] bytes, String tensor, String problem)
            throws IOException {
        Path file = Files.write(dir.resolve("bad.safetensors"), bytes);
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsReader.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        assertEquals(file.toString(), e.file());
        if (tensor == null) {
            assertNull(e.tensor(), e.getMessage());
        } else {
            assertEquals(tensor, e.tensor());
            assertTrue(e.getMessage().contains("tensor '" + tensor + "'"), e.getMessage());
        }
        SafetensorsException inMemory = assertThrows(SafetensorsException.class,
                () -> SafetensorsReader.read("in-memory", bytes));
        assertEquals(e.getMessage().substring(file.toString().length()), inMemory.getMessage().substring("in-memory".length()));
    }

    private static Arguments bad(String name, byte[] bytes, String tensor, String problem) {
        return Arguments.of(name, bytes, tensor, problem);
    }

    private static byte[] json(String body, byte[] data) {
        return TestSafetensors.file("{" + body + "}", data);
    }

    private static byte[] withLength(long headerLength, int fileSize) {
        ByteBuffer out = ByteBuffer.allocate(fileSize).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength);
        out.put((byte) '{');
        return out.array();
    }

    private static byte[] invalidUtf8() {
        byte[] header = "{\"wxx\":{}}".getBytes(StandardCharsets.US_ASCII);
        header[3] = (byte) 0xC3;
        header[4] = (byte) 0x28;
        return TestSafetensors.file(header, new byte[0]);
    }
}
