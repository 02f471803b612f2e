package dev.weightlift.agent.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.agent.device.HostAllocator;
import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryLimitException;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.host.HostMemoryAllocator;
import dev.weightlift.agent.store.safetensors.Dtype;
import dev.weightlift.agent.store.safetensors.SafetensorsException;
import dev.weightlift.agent.store.safetensors.SafetensorsIndex;
import dev.weightlift.agent.store.safetensors.TestSafetensors;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostStoreTest {

    @TempDir
    Path dir;

    private HostAllocator allocator;
    private HostStore store;
    private final Map<String, byte[]> written = new HashMap<>();

    @BeforeEach
    void start() {
        allocator = new HostMemoryAllocator(256L << 20);
        store = new HostStore(allocator, new HostStoreConfig(64L << 20, 2, 256 << 10, 4096, 4, Duration.ofMinutes(1)));
    }

    @AfterEach
    void stop() {
        store.close();
        assertEquals(0, allocator.bytesInUse(), "the store left host memory behind");
        allocator.close();
        assertEquals(0, allocator.leakedRegions());
    }

    /** Writes a shard with tensors of awkward sizes (not multiples of 256) and big ones that need chunked reads. */
    private Path shard(String name, long seed, int tensors) throws IOException {
        Random random = new Random(seed);
        TestSafetensors writer = new TestSafetensors();
        Dtype[] dtypes = {Dtype.BF16, Dtype.F32, Dtype.F8_E4M3, Dtype.I64, Dtype.BOOL};
        for (int i = 0; i < tensors; i++) {
            long rows = 1 + random.nextInt(300);
            writer.add(name + ".layer" + i + ".weight", dtypes[i % dtypes.length], new long[] {rows, 7}, random);
        }
        writer.add(name + ".big", Dtype.F32, new long[] {100_000}, random);
        writer.tensors().forEach(t -> written.put(t.name(), t.data()));
        return writer.write(dir.resolve(name + ".safetensors"));
    }

    private void assertHoldsWrittenBytes(CheckpointVersion version) {
        assertEquals(written.size(), version.tensors().size());
        for (TensorLocation tensor : version.tensors()) {
            byte[] expected = written.get(tensor.name());
            assertEquals(expected.length, tensor.nbytes(), tensor.name());
            byte[] actual = new byte[expected.length];
            version.buffers().get(tensor.buffer()).view(tensor.offset(), expected.length).get(actual);
            assertArrayEquals(expected, actual, tensor.name());
        }
    }

    @Test
    void aHeldShareIsCompletedWithTheTensorsItLacksWhilePinsOfTheShareStayValid() throws IOException {
        Path a = shard("a", 1, 12);
        Path b = shard("b", 2, 9);
        CheckpointVersion share = store.load("llm", "v1", List.of(a));
        CheckpointPin pin = store.pin("llm", "v1", "serving");

        CheckpointVersion whole = store.complete("llm", "v1", List.of(a, b));

        assertHoldsWrittenBytes(whole);
        assertEquals(whole, store.get("llm", "v1").orElseThrow());
        assertEquals(whole.bytes(), store.bytesInUse());
        assertTrue(whole.bytes() > share.bytes());
        assertTrue(whole.buffers().containsAll(share.buffers()), "the share's buffers stay where they were");
        assertEquals(whole, store.complete("llm", "v1", List.of(b)), "nothing lacking: unchanged");
        TensorLocation first = share.tensors().get(0);
        IllegalArgumentException again = assertThrows(IllegalArgumentException.class, () -> store.receive("llm", "v1",
                List.of(first.nbytes()), List.of(new TensorLocation(first.name(), first.dtype(), first.shape(), first.nbytes(), 0, 0)),
                buffers -> { }));
        assertTrue(again.getMessage().contains("holds tensor " + first.name() + " already"), again.getMessage());
        assertEquals(whole.bytes(), store.bytesInUse());
        pin.close();
        assertTrue(store.release("llm", "v1"));
        assertEquals(0, store.bytesInUse());
    }

    @Test
    void loadsFilesIntoAlignedPinnedBuffersAndReleasesEveryByte() throws IOException {
        long start = allocator.bytesInUse();
        List<Path> files = List.of(shard("a", 1, 40), shard("b", 2, 25));
        CheckpointVersion version = store.load("llm", "v1", files);
        assertHoldsWrittenBytes(version);
        assertFalse(version.inPlace());
        assertTrue(version.buffers().size() > 1, "expected several 256 KiB buffers");
        for (MemoryRegion buffer : version.buffers()) {
            assertEquals(MemoryKind.HOST_PINNED, buffer.kind());
            assertEquals(0, buffer.address() % 256);
        }
        for (TensorLocation tensor : version.tensors()) {
            assertEquals(0, tensor.offset() % 256, tensor.name());
            long padding = ((tensor.nbytes() + 255) & -256L) - tensor.nbytes();
            ByteBuffer tail = version.buffers().get(tensor.buffer()).view(tensor.offset() + tensor.nbytes(), (int) padding);
            while (tail.hasRemaining()) {
                assertEquals(0, tail.get(), "padding after " + tensor.name());
            }
        }
        assertEquals(version.bytes(), store.bytesInUse());
        assertEquals(start + version.bytes(), allocator.bytesInUse());
        assertEquals(version, store.get("llm", "v1").orElseThrow());
        assertEquals(version, store.current("llm").orElseThrow());
        assertTrue(store.release("llm", "v1"));
        assertFalse(store.release("llm", "v1"));
        assertEquals(0, store.bytesInUse());
        assertEquals(start, allocator.bytesInUse());
    }

    @Test
    void loadsADirectoryThroughItsIndex() throws IOException {
        shard("a", 3, 5);
        shard("b", 4, 5);
        writeIndex("");
        CheckpointVersion version = store.loadDirectory("llm", "v1", dir);
        assertHoldsWrittenBytes(version);
        store.release("llm", "v1");

        Files.writeString(dir.resolve(SafetensorsIndex.FILE_NAME), "{\"weight_map\":{\"a.big\":\"a.safetensors\"}}");
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> store.loadDirectory("llm", "v2", dir));
        assertEquals("a.layer0.weight", e.tensor());
        assertTrue(e.getMessage().contains("not listed in model.safetensors.index.json"), e.getMessage());
        Files.writeString(dir.resolve(SafetensorsIndex.FILE_NAME), "{\"weight_map\":{\"a.big\":\"../a.safetensors\"}}");
        e = assertThrows(SafetensorsException.class, () -> store.loadDirectory("llm", "v2", dir));
        assertTrue(e.getMessage().contains("not a file name inside the directory"), e.getMessage());
        writeIndex(",\"gone\":\"a.safetensors\"");
        e = assertThrows(SafetensorsException.class, () -> store.loadDirectory("llm", "v2", dir));
        assertEquals("gone", e.tensor());
        assertEquals(0, store.bytesInUse());
    }

    @Test
    void aCheckpointOverTheBudgetIsRefusedWithNothingAllocated() throws IOException {
        Path big = new TestSafetensors().add("huge", Dtype.U8, new long[] {40L << 20}, new Random(5))
                .write(dir.resolve("huge.safetensors"));
        store.load("llm", "v1", List.of(big));
        MemoryLimitException e = assertThrows(MemoryLimitException.class, () -> store.load("llm", "v2", List.of(big)));
        assertTrue(e.getMessage().startsWith("host store: checkpoint llm@v2 (held: [llm@v1 41943040 B])"), e.getMessage());
        assertEquals(40L << 20, allocator.bytesInUse());
        assertEquals(List.of("v1"), store.versions("llm").stream().map(CheckpointVersion::version).toList());
    }

    @Test
    void aMalformedOrVanishingFileLeavesNothingLoaded() throws IOException {
        Path good = shard("a", 6, 10);
        Path bad = Files.write(dir.resolve("bad.safetensors"), TestSafetensors.file(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]));
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> store.load("llm", "v1", List.of(good, bad)));
        assertEquals(bad.toString(), e.file());
        assertThrows(IOException.class, () -> store.load("llm", "v1", List.of(good, dir.resolve("missing.safetensors"))));
        assertEquals(0, allocator.bytesInUse());
        assertTrue(store.get("llm", "v1").isEmpty());
        store.load("llm", "v1", List.of(good));
    }

    @Test
    void retentionKeepsCurrentAndPreviousAndNeverDropsAPinnedVersion() throws IOException {
        Path file = shard("a", 7, 10);
        long size = store.load("llm", "v1", List.of(file)).bytes();
        store.load("llm", "v2", List.of(file));
        CheckpointPin pin = store.pin("llm", "v2", "update-1");
        store.load("llm", "v3", List.of(file));
        assertEquals(List.of("v2", "v3"), versions());
        store.load("llm", "v4", List.of(file));
        assertEquals(List.of("v2", "v3", "v4"), versions(), "pinned v2 must stay");
        assertEquals(3 * size, allocator.bytesInUse());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> store.release("llm", "v2"));
        assertTrue(e.getMessage().contains("in use by [update-1]"), e.getMessage());
        assertHoldsWrittenBytes(pin.version());
        pin.close();
        pin.close();
        assertEquals(List.of("v3", "v4"), versions());
        assertEquals(2 * size, allocator.bytesInUse());
        assertThrows(IllegalStateException.class, () -> store.load("llm", "v4", List.of(file)));
        assertThrows(IllegalStateException.class, () -> store.pin("llm", "v1", "update-2"));
        store.load("other", "v1", List.of(file));
        assertEquals(List.of("v3", "v4"), versions(), "retention is per checkpoint name");
        assertEquals(3 * size, store.bytesInUse());
        store.release("llm", "v3");
        store.release("llm", "v4");
        store.release("other", "v1");
        assertEquals(0, allocator.bytesInUse());
    }

    @Test
    void sharedMemoryFilesAreRegisteredInPlaceWithoutACopy() throws IOException {
        Path file = shard("a", 8, 12);
        CheckpointVersion version = store.registerInPlace("llm", "v1", List.of(file));
        assertTrue(version.inPlace());
        assertEquals(1, version.buffers().size());
        assertEquals(MemoryKind.HOST_MAPPED, version.buffers().get(0).kind());
        assertHoldsWrittenBytes(version);
        assertEquals(version.bytes(), allocator.bytesInUse());
        TensorLocation first = version.tensors().get(0);
        long dataStart = Files.size(file) - version.bytes();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {42}), dataStart + first.offset());
        }
        assertEquals(42, version.buffers().get(0).view(first.offset(), 1).get(0), "the mapping is not the file itself");
        store.release("llm", "v1");
        assertEquals(0, allocator.bytesInUse());
        assertTrue(Files.exists(file), "the store does not own the registered file");
    }

    @Test
    void aFileInDevShmIsRegisteredInPlace() throws IOException {
        Path shm = Path.of("/dev/shm");
        Assumptions.assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no writable /dev/shm");
        Path file = Files.move(shard("a", 11, 4), shm.resolve("weightlift-test-" + ProcessHandle.current().pid()
                + ".safetensors"));
        try {
            CheckpointVersion version = store.registerInPlace("llm", "v1", List.of(file));
            assertHoldsWrittenBytes(version);
            store.release("llm", "v1");
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void metricsShowWhatTheStoreHolds() throws IOException {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new HostStoreMetrics(store).bindTo(registry);
        CheckpointVersion version = store.load("llm", "v1", List.of(shard("a", 10, 3)));
        assertEquals(version.bytes(), registry.get("weightlift.host.store.used").gauge().value());
        assertEquals(1, registry.get("weightlift.host.store.versions").gauge().value());
        assertEquals(64L << 20, registry.get("weightlift.host.store.budget").gauge().value());
    }

    @Test
    void metadataDescribesEveryTensorCompactly() throws IOException {
        CheckpointVersion version = store.load("llm", "v1", List.of(shard("a", 9, 30)));
        var metadata = version.metadata();
        assertEquals("llm", metadata.checkpoint());
        assertEquals(version.buffers().stream().map(MemoryRegion::size).toList(), metadata.bufferSizes());
        assertEquals(version.tensors(), metadata.decodeTensors());
    }

    private void writeIndex(String extraEntries) throws IOException {
        StringBuilder map = new StringBuilder("{\"metadata\":{\"total_size\":1},\"weight_map\":{");
        String sep = "";
        for (String name : written.keySet()) {
            map.append(sep).append('"').append(name).append("\":\"").append(name.substring(0, 1)).append(".safetensors\"");
            sep = ",";
        }
        Files.writeString(dir.resolve(SafetensorsIndex.FILE_NAME), map.append(extraEntries).append("}}"));
    }

    private List<String> versions() {
        return store.versions("llm").stream().map(CheckpointVersion::version).toList();
    }
}
