package dev.weightlift.agent.engine.checkpointengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every opcode choice of the writer, read back by CPython's unpickler and compared with exact types. */
class PickleWriterTest {

    private static final long[] INTS = {0, 1, 255, 256, 65_535, 65_536, -1, -256, Integer.MAX_VALUE,
        Integer.MIN_VALUE, 1L << 31, -(1L << 31) - 1, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE};

    @TempDir
    Path dir;

    private final List<Map<String, Object>> expected = new ArrayList<>();

    @Test
    void cpythonReadsBackEveryShapeTheWriterMakes() throws Exception {
        for (long n : INTS) {
            add("int" + expected.size(), new PickleWriter().integer(n).toByteArray(), n);
        }
        for (String s : List.of("", "a", "é名", "y".repeat(255), "z".repeat(256), "ü".repeat(200))) {
            add("str" + expected.size(), new PickleWriter().string(s).toByteArray(), s);
        }
        for (int size : new int[] {0, 1, 64, 255, 256, 70_000}) {
            byte[] b = new byte[size];
            for (int i = 0; i < size; i++) {
                b[i] = (byte) (i * 31);
            }
            add("bytes" + expected.size(), new PickleWriter().bytes(b).toByteArray(),
                    Map.of("bytes", HexFormat.of().formatHex(b)));
        }
        add("true", new PickleWriter().bool(true).toByteArray(), true);
        add("false", new PickleWriter().bool(false).toByteArray(), false);
        for (int size = 0; size <= 5; size++) {
            int n = size;
            PickleWriter w = new PickleWriter();
            w.tuple(n, () -> IntStream.range(0, n).forEach(w::integer));
            add("tuple" + n, w.toByteArray(), Map.of("tuple", IntStream.range(0, n).boxed().toList()));
        }
        for (int size : new int[] {0, 1, 2, 999, 1000, 1001, 2500}) {
            List<Integer> items = IntStream.range(0, size).boxed().toList();
            PickleWriter w = new PickleWriter();
            w.list(items, i -> w.integer(i));
            add("list" + size, w.toByteArray(), items);
        }
        for (int pairs = 0; pairs <= 3; pairs++) {
            int n = pairs;
            PickleWriter w = new PickleWriter();
            w.dict(n, () -> IntStream.range(0, n).forEach(i -> w.string("k" + i).none()));
            List<List<Object>> entries = new ArrayList<>();
            IntStream.range(0, n).forEach(i -> {
                List<Object> entry = new ArrayList<>();
                entry.add("k" + i);
                entry.add(null);
                entries.add(entry);
            });
            add("dict" + n, w.toByteArray(), Map.of("dict", entries));
        }
        PickleWriter call = new PickleWriter();
        call.global("builtins", "divmod").tuple(2, () -> call.integer(17).integer(5)).reduce();
        add("reduce", call.toByteArray(), Map.of("tuple", List.of(3, 2)));

        Files.writeString(dir.resolve("expected.json"), new ObjectMapper().writeValueAsString(expected));
        Path out = dir.resolve("python.out");
        int exit = Python.await(Python.start(true, out, "check_messages.py", dir.toString()), Duration.ofSeconds(60));
        assertEquals(0, exit, Python.read(out));
        assertTrue(Python.read(out).contains("checked " + expected.size() + " messages"));
    }

    @Test
    void misuseFailsInJavaNotInTheEngine() {
        PickleWriter twoValues = new PickleWriter().none().none();
        assertThrows(IllegalStateException.class, twoValues::toByteArray);
        PickleWriter shortTuple = new PickleWriter();
        assertThrows(IllegalStateException.class, () -> shortTuple.tuple(3, () -> shortTuple.none().none()));
        assertThrows(IllegalStateException.class, () -> new PickleWriter().none().reduce());
        PickleWriter oddDict = new PickleWriter();
        assertThrows(IllegalStateException.class, () -> oddDict.dict(2, () -> oddDict.string("k").none()));
    }

    private void add(String file, byte[] pickle, Object value) throws Exception {
        Files.write(dir.resolve(file + ".pkl"), pickle);
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("file", file + ".pkl");
        entry.put("kind", "value");
        entry.put("value", value);
        expected.add(entry);
    }
}
