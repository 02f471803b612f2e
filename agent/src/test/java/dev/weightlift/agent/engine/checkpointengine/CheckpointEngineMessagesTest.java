package dev.weightlift.agent.engine.checkpointengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.engine.TensorEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Python unpickles every message the encoder makes and checks its structure, down to the exact types. */
class CheckpointEngineMessagesTest {

    private static final byte[] IPC_HANDLE = ipcHandle();

    @TempDir
    Path dir;

    private final List<Map<String, Object>> expected = new ArrayList<>();

    @Test
    void everyMessageUnpicklesToWhatCheckpointEngineSendsWithTheStubTorch() throws Exception {
        writeSharedBuffer("small.pkl", 2L * 1024 * 1024, 0);
        writeSharedBuffer("large.pkl", 3L * 8 * 1024 * 1024 * 1024 + 256, 7);
        List<TensorEntry> all = new ArrayList<>();
        long offset = 0;
        for (String dtype : List.of("BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64", "F16", "BF16",
                "F32", "F64", "C64", "F8_E4M3", "F8_E5M2", "F8_E8M0")) {
            all.add(new TensorEntry("model.layers.0." + dtype.toLowerCase() + ".weight", dtype, new long[] {4, 3},
                    offset, 96));
            offset += 256;
        }
        writeBucket("all-dtypes.pkl", all);
        writeBucket("one.pkl", List.of(new TensorEntry("lm_head.weight", "BF16",
                new long[] {151_936, 8192}, 9L * 1024 * 1024 * 1024, 2L * 151_936 * 8192)));
        writeBucket("scalar-and-huge.pkl", List.of(
                new TensorEntry("scale", "F32", new long[] {}, 0, 4),
                new TensorEntry("embed", "U8", new long[] {3_000_000_000L}, 256, 3_000_000_000L),
                new TensorEntry("名前.é", "F16", new long[] {1, 1, 1, 1, 1}, 70_000, 2)));
        writeBucket("empty.pkl", List.of());
        writeBucket("many.pkl", many(2_345));
        write("none.pkl", CheckpointEngineMessages.none(), Map.of("kind", "none"));
        String reason = "weightlift aborted the update: worker GPU-1 failed bucket 3 — " + "x".repeat(300);
        write("error.pkl", CheckpointEngineMessages.runtimeError(reason), Map.of("kind", "error", "message", reason));

        check(true);
    }

    @Test
    void theMessagesResolveToTheRealTorchObjects() throws Exception {
        writeSharedBuffer("buffer.pkl", 1L << 30, 1);
        writeBucket("bucket.pkl", List.of(
                new TensorEntry("a", "BF16", new long[] {2, 3}, 0, 12),
                new TensorEntry("b", "F32", new long[] {5}, 256, 20),
                new TensorEntry("c", "I64", new long[] {1}, 512, 8),
                new TensorEntry("d", "BOOL", new long[] {7}, 768, 7)));
        write("none.pkl", CheckpointEngineMessages.none(), Map.of("kind", "none"));
        write("error.pkl", CheckpointEngineMessages.runtimeError("stop"), Map.of("kind", "error", "message", "stop"));

        check(false);
    }

    @Test
    void aDtypeTorchCannotNameIsRefusedNamingTheTensor() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CheckpointEngineMessages
                .bucket(List.of(new TensorEntry("experts.0.w1", "F4", new long[] {2}, 0, 1))));
        assertTrue(e.getMessage().contains("experts.0.w1") && e.getMessage().contains("F4"), e.getMessage());
    }

    @Test
    void onlyCudaMemoryCanBeShared() {
        ShareHandle shm = ShareHandle.shmFile("GPU-0", 4096, "/dev/shm/weightlift-0");
        assertThrows(IllegalArgumentException.class, () -> CheckpointEngineMessages.sharedBuffer(shm, 0));
    }

    @Test
    void theNoneMessageIsThreeBytesLikeCpythonsProtocolFourPickleOfNone() {
        assertEquals("80044e2e", HexFormat.of().formatHex(CheckpointEngineMessages.none()));
    }

    private void check(boolean stubTorch) throws Exception {
        Files.writeString(dir.resolve("expected.json"), new ObjectMapper().writeValueAsString(expected));
        Path output = dir.resolve("python.out");
        List<String> args = new ArrayList<>(List.of(dir.toString()));
        if (!stubTorch) {
            args.add("--real-torch");
        }
        Process python = Python.start(stubTorch, output, "check_messages.py", args.toArray(String[]::new));
        int exit = Python.await(python, Duration.ofSeconds(60));
        String log = Python.read(output);
        assertEquals(0, exit, log);
        assertTrue(log.contains("checked " + expected.size() + " messages"), log);
    }

    private void writeSharedBuffer(String file, long size, int device) throws IOException {
        ShareHandle handle = ShareHandle.cudaIpc("GPU-5d1e4c6f-0000-4000-8000-000000000001", size, IPC_HANDLE);
        Map<String, Object> want = new LinkedHashMap<>();
        want.put("kind", "shared_buffer");
        want.put("size", size);
        want.put("device", device);
        want.put("ipcHandle", HexFormat.of().formatHex(IPC_HANDLE));
        want.put("refCounter", CheckpointEngineMessages.REF_COUNTER_NAME);
        write(file, CheckpointEngineMessages.sharedBuffer(handle, device), want);
    }

    private void writeBucket(String file, List<TensorEntry> tensors) throws IOException {
        List<Map<String, Object>> wanted = new ArrayList<>();
        for (TensorEntry t : tensors) {
            Map<String, Object> w = new LinkedHashMap<>();
            w.put("name", t.name());
            w.put("dtype", TorchDtypes.torchName(t.dtype(), t.name()));
            w.put("shape", t.shape());
            w.put("offset", t.offset());
            wanted.add(w);
        }
        write(file, CheckpointEngineMessages.bucket(tensors), Map.of("kind", "bucket", "tensors", wanted));
    }

    private void write(String file, byte[] pickle, Map<String, Object> want) throws IOException {
        Files.write(dir.resolve(file), pickle);
        Map<String, Object> entry = new LinkedHashMap<>(want);
        entry.put("file", file);
        expected.add(entry);
    }

    private static List<TensorEntry> many(int count) {
        List<TensorEntry> tensors = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            tensors.add(new TensorEntry("model.layers." + i + ".mlp.experts.weight", "BF16",
                    new long[] {i % 300, 1 + i * 70_001L}, i * 1_000_003L, 2L));
        }
        return tensors;
    }

    private static byte[] ipcHandle() {
        byte[] handle = new byte[64];
        for (int i = 0; i < handle.length; i++) {
            handle[i] = (byte) (i * 37 + 11);
        }
        handle[3] = '\n';
        handle[4] = '.';
        return handle;
    }
}
