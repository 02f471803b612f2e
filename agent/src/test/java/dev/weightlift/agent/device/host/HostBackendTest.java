package dev.weightlift.agent.device.host;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.agent.device.CopyFailedException;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.FileWindow;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.HostAllocator;
import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryLimitException;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.device.SharedRegion;
import dev.weightlift.agent.device.StreamEvent;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostBackendTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @TempDir
    Path shmDir;

    private HostBackend backend;

    @BeforeEach
    void start() {
        backend = new HostBackend(new HostBackendConfig("node-a", 2, 64L << 20, 64L << 20, shmDir, DEADLINE));
    }

    @AfterEach
    void stop() {
        backend.close();
    }

    @Test
    void pinnedAllocationsAreAlignedAndCounted() {
        HostAllocator host = backend.hostAllocator();
        MemoryRegion a = host.allocatePinned(1000);
        MemoryRegion b = host.allocatePinned(3);
        assertEquals(MemoryKind.HOST_PINNED, a.kind());
        assertEquals(0, a.address() % 256);
        assertEquals(0, b.address() % 256);
        assertEquals(1003, host.bytesInUse());
        a.close();
        a.close();
        assertEquals(3, host.bytesInUse());
        b.close();
        assertEquals(0, host.bytesInUse());
        assertThrows(IllegalStateException.class, () -> a.view(0, 1));
    }

    @Test
    void allocationPastTheLimitFailsAndTakesNothing() {
        HostAllocator host = backend.hostAllocator();
        MemoryRegion most = host.allocatePinned((64L << 20) - 100);
        MemoryLimitException e = assertThrows(MemoryLimitException.class, () -> host.allocatePinned(101));
        assertEquals(101, e.requested());
        assertEquals(64L << 20, e.limit());
        assertTrue(e.getMessage().contains("only 100 of the 67108864-byte memory limit are free"), e.getMessage());
        assertEquals((64L << 20) - 100, host.bytesInUse());
        host.allocatePinned(100).close();
        most.close();
        assertEquals(0, host.bytesInUse());
    }

    @Test
    void closeReportsAndReleasesLeakedRegions() {
        HostAllocator host = backend.hostAllocator();
        host.allocatePinned(4096);
        host.allocatePinned(1).close();
        Gpu gpu = backend.gpus().get(0);
        gpu.allocate(1024);
        gpu.allocateShared(2048);
        backend.close();
        assertEquals(3, backend.leakedRegions());
        assertEquals(1, host.leakedRegions());
        assertEquals(0, host.bytesInUse());
        assertEquals(gpu.totalMemory(), gpu.freeMemory());
        assertEquals(0, fileCount(shmDir), "shared memory files left behind");
        assertThrows(IllegalStateException.class, () -> host.allocatePinned(1));
    }

    @Test
    void gpusHaveStableNvmlStyleUuidsAndRealFreeMemory() {
        List<Gpu> gpus = backend.gpus();
        assertEquals(2, gpus.size());
        String pattern = "GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
        assertTrue(gpus.get(0).uuid().matches(pattern), gpus.get(0).uuid());
        assertNotEquals(gpus.get(0).uuid(), gpus.get(1).uuid());
        assertEquals(gpus.get(1).uuid(), HostGpu.uuidOf("node-a", 1));
        assertNotEquals(gpus.get(1).uuid(), HostGpu.uuidOf("node-b", 1));

        Gpu gpu = gpus.get(1);
        assertEquals(64L << 20, gpu.freeMemory());
        MemoryRegion device = gpu.allocate(10L << 20);
        SharedRegion shared = gpu.allocateShared(20L << 20);
        assertEquals(MemoryKind.DEVICE, device.kind());
        assertEquals(MemoryKind.SHARED, shared.kind());
        assertEquals(34L << 20, gpu.freeMemory());
        assertEquals(64L << 20, gpus.get(0).freeMemory());
        assertThrows(MemoryLimitException.class, () -> gpu.allocate(35L << 20));
        assertThrows(IllegalStateException.class, () -> device.view(0, 1), "device memory has no host view");
        device.close();
        shared.close();
        assertEquals(64L << 20, gpu.freeMemory());
    }

    @Test
    void mapPinnedMapsAFileRegionInPlaceReadOnly() throws IOException {
        Path file = shmDir.resolve("checkpoint.bin");
        byte[] content = randomBytes(10_000, 1);
        Files.write(file, content);
        HostAllocator host = backend.hostAllocator();
        try (MemoryRegion mapped = host.mapPinned(file, 1234, 5000)) {
            assertEquals(MemoryKind.HOST_MAPPED, mapped.kind());
            assertEquals(5000, host.bytesInUse());
            byte[] read = new byte[5000];
            mapped.view(0, 5000).get(read);
            byte[] expected = new byte[5000];
            System.arraycopy(content, 1234, expected, 0, 5000);
            assertArrayEquals(expected, read);
            assertTrue(mapped.view(0, 10).isReadOnly());
            try (MemoryRegion pinned = host.allocatePinned(16); CopyStream stream = backend.gpus().get(0).newStream("t")) {
                assertThrows(IllegalArgumentException.class, () -> stream.copy(pinned, 0, mapped, 0, 16));
            }
        }
        assertEquals(0, host.bytesInUse());
        IOException past = assertThrows(IOException.class, () -> host.mapPinned(file, 9000, 2000));
        assertTrue(past.getMessage().contains("passes the end of the file"), past.getMessage());
        assertEquals(0, host.bytesInUse());
    }

    @Test
    void hostMemoryLivesInSharedFilesThatAnotherProcessCanMapAndIsPrivateWhenTheDirectoryCannotHoldIt() throws IOException {
        int size = 1 << 20;
        try (HostMemoryAllocator host = new HostMemoryAllocator(16L << 20, shmDir, "host-test")) {
            MemoryRegion region = host.allocatePinned(size);
            FileWindow window = region.sharedFile().orElseThrow();
            assertEquals(new FileWindow(window.path(), 0, size), window);
            byte[] content = randomBytes(size, 5);
            region.view(0, size).put(content);
            assertArrayEquals(content, Files.readAllBytes(Path.of(window.path())), "the file holds the region's bytes");
            region.close();
            assertEquals(0, host.bytesInUse());
            assertEquals(size, host.bytesPooled(), "given back, the file is kept for the next allocation of its size");
            try (MemoryRegion again = host.allocatePinned(size)) {
                assertEquals(window, again.sharedFile().orElseThrow(), "the same file, already backed");
                assertEquals(0, host.bytesPooled());
            }
            try (MemoryRegion other = host.allocatePinned(16L << 20)) {
                assertEquals(0, host.bytesPooled(), "a pooled file makes room for an allocation that needs it");
                assertFalse(Files.exists(Path.of(window.path())));
                assertNotEquals(window.path(), other.sharedFile().orElseThrow().path());
            }

            Path staged = Files.write(shmDir.resolve("staged.safetensors"), content);
            try (MemoryRegion mapped = host.mapPinned(staged, 4096, 8192)) {
                assertEquals(new FileWindow(staged.toRealPath().toString(), 4096, 8192), mapped.sharedFile().orElseThrow());
            }
        }
        try (var files = Files.list(shmDir)) {
            assertEquals(List.of(shmDir.resolve("staged.safetensors")), files.toList(), "closing the allocator empties the pool");
        }
        try (HostMemoryAllocator nowhere = new HostMemoryAllocator(16L << 20, shmDir.resolve("missing"), "host-test");
                MemoryRegion region = nowhere.allocatePinned(size)) {
            assertTrue(region.sharedFile().isEmpty(), "private memory when the directory cannot hold a file");
            region.view(0, size).put(randomBytes(size, 6));
            assertEquals(size, nowhere.bytesInUse());
        }
    }

    @Test
    void anAgentDeletesTheSharedFilesAnEarlierAgentOfItsNodeLeftAndNeverReusesTheirNames() throws IOException {
        Path dir = Files.createDirectories(shmDir.resolve("restart"));
        // What an agent killed with pid 1 in its container leaves behind; the next one is pid 1 again.
        Path staleHost = Files.write(dir.resolve("weightlift-host-node-r-1-0badcafe-1"), new byte[10]);
        Path staleSlot = Files.write(dir.resolve("weightlift-" + HostGpu.uuidOf("node-r", 0) + "-1-0badcafe-1"), new byte[10]);
        Path otherNode = Files.write(dir.resolve("weightlift-host-node-s-1-0badcafe-1"), new byte[10]);
        try (HostBackend restarted = new HostBackend(new HostBackendConfig("node-r", 1, 1L << 20, 1L << 20, dir, DEADLINE));
                MemoryRegion store = restarted.hostAllocator().allocatePinned(4096);
                SharedRegion slot = restarted.gpus().get(0).allocateShared(4096)) {
            assertFalse(Files.exists(staleHost));
            assertFalse(Files.exists(staleSlot));
            assertTrue(Files.exists(otherNode), "another node's files are its agent's");
            String name = Path.of(store.sharedFile().orElseThrow().path()).getFileName().toString();
            assertTrue(name.startsWith("weightlift-host-node-r-" + ProcessHandle.current().pid() + "-")
                    && !name.equals(staleHost.getFileName().toString()), name);
            assertTrue(Files.exists(Path.of(slot.handle().path())));
        }
    }

    @Test
    void mappingMoreThanNioAllowsFailsWithTheLimitNamed() throws IOException {
        Path file = shmDir.resolve("sparse.bin");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(3L << 30);
        }
        try (HostMemoryAllocator host = new HostMemoryAllocator(4L << 30)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> host.mapPinned(file, 0, 3L << 30));
            assertTrue(e.getMessage().contains("2147483647"), e.getMessage());
            assertEquals(0, host.bytesInUse());
        }
    }

    @Test
    void copiesRunInOrderAndEventsMarkTheirPoint() {
        Gpu gpu = backend.gpus().get(0);
        int size = 4 << 20;
        HostAllocator host = backend.hostAllocator();
        try (MemoryRegion src = host.allocatePinned(size); MemoryRegion dst = host.allocatePinned(size);
                CopyStream stream = gpu.newStream("order")) {
            List<MemoryRegion> chain = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                chain.add(gpu.allocate(size));
            }
            byte[] content = randomBytes(size, 2);
            src.view(0, size).put(content);
            stream.copy(src, 0, chain.get(0), 0, size);
            for (int i = 1; i < chain.size(); i++) {
                stream.copy(chain.get(i - 1), 0, chain.get(i), 0, size);
            }
            stream.copy(chain.get(chain.size() - 1), 0, dst, 0, size);
            StreamEvent afterChain = stream.record();
            stream.copy(src, 0, dst, 0, 1000);
            stream.copy(src, 5000, dst, 0, 1000);
            StreamEvent last = stream.record();
            assertTrue(afterChain.await(DEADLINE));
            assertTrue(last.await(DEADLINE));
            assertTrue(afterChain.isDone());
            stream.synchronize();
            byte[] out = new byte[size];
            dst.view(0, size).get(out);
            byte[] expected = content.clone();
            System.arraycopy(content, 5000, expected, 0, 1000);
            assertArrayEquals(expected, out);
            chain.forEach(MemoryRegion::close);
        }
        assertEquals(0, host.bytesInUse());
        assertEquals(gpu.totalMemory(), gpu.freeMemory());
    }

    @Test
    void aStreamWaitsForAnotherStreamsEvent() {
        Gpu gpu = backend.gpus().get(0);
        HostAllocator host = backend.hostAllocator();
        HostStreamEvent gate = new HostStreamEvent();
        try (MemoryRegion src = host.allocatePinned(1 << 20); MemoryRegion mid = gpu.allocate(1 << 20);
                MemoryRegion dst = host.allocatePinned(1 << 20); CopyStream first = gpu.newStream("first");
                CopyStream second = gpu.newStream("second")) {
            byte[] content = randomBytes(1 << 20, 3);
            src.view(0, 1 << 20).put(content);
            first.waitFor(gate);
            first.copy(src, 0, mid, 0, 1 << 20);
            StreamEvent staged = first.record();
            second.waitFor(staged);
            second.copy(mid, 0, dst, 0, 1 << 20);
            StreamEvent done = second.record();
            assertFalse(done.await(Duration.ofMillis(100)), "the second stream ran before the first one's event");
            gate.complete();
            assertTrue(done.await(DEADLINE));
            second.synchronize();
            byte[] out = new byte[1 << 20];
            dst.view(0, 1 << 20).get(out);
            assertArrayEquals(content, out);
        }
    }

    @Test
    void aFailedCopyIsRethrownOnSynchronizeAndStaysFailed() {
        Gpu gpu = backend.gpus().get(0);
        HostStreamEvent gate = new HostStreamEvent();
        try (CopyStream stream = gpu.newStream("fails"); MemoryRegion dst = gpu.allocate(4096)) {
            MemoryRegion src = gpu.allocate(4096);
            stream.waitFor(gate);
            stream.copy(src, 0, dst, 0, 4096);
            src.close();
            gate.complete();
            CopyFailedException e = assertThrows(CopyFailedException.class, stream::synchronize);
            assertTrue(e.getMessage().contains("is closed"), e.getMessage());
            assertThrows(CopyFailedException.class, stream::synchronize);
            assertThrows(IndexOutOfBoundsException.class, () -> stream.copy(dst, 4000, dst, 0, 100));
        }
    }

    @Test
    void anEventAfterAFailedCopyRethrowsItButOneBeforeDoesNot() {
        Gpu gpu = backend.gpus().get(0);
        HostStreamEvent gate = new HostStreamEvent();
        try (CopyStream stream = gpu.newStream("fails"); MemoryRegion dst = gpu.allocate(4096)) {
            MemoryRegion src = gpu.allocate(4096);
            stream.waitFor(gate);
            StreamEvent before = stream.record();
            stream.copy(src, 0, dst, 0, 4096);
            StreamEvent after = stream.record();
            src.close();
            gate.complete();
            assertTrue(before.await(Duration.ofSeconds(5)));
            CopyFailedException e = assertThrows(CopyFailedException.class, () -> after.await(Duration.ofSeconds(5)));
            assertTrue(e.getMessage().contains("is closed"), e.getMessage());
        }
    }

    @Test
    void anotherProcessReadsTheSharedFile() throws Exception {
        Gpu gpu = backend.gpus().get(1);
        int size = 3 << 20;
        byte[] content = randomBytes(size, 4);
        String path;
        try (SharedRegion shared = gpu.allocateShared(size); MemoryRegion src = backend.hostAllocator().allocatePinned(size);
                CopyStream stream = gpu.newStream("share")) {
            ShareHandle handle = shared.handle();
            assertEquals(ShareHandle.Type.SHM_FILE, handle.type());
            assertEquals(gpu.uuid(), handle.gpuUuid());
            assertEquals(size, handle.size());
            path = handle.path();
            assertTrue(path.startsWith(shmDir.toString()), path);
            src.view(0, size).put(content);
            stream.copy(src, 0, shared, 0, size);
            stream.synchronize();
            String script = "import hashlib, mmap, sys\n"
                    + "with open(sys.argv[1], 'rb') as f:\n"
                    + "    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)\n"
                    + "    print(len(m), hashlib.sha256(m).hexdigest())\n";
            Process python = new ProcessBuilder(System.getProperty("weightlift.python", "/usr/bin/python3"), "-c", script,
                    path).redirectErrorStream(true).start();
            assertTrue(python.waitFor(30, TimeUnit.SECONDS), "python did not finish");
            String out = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertEquals(size + " " + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content)), out);
        }
        assertFalse(Files.exists(Path.of(path)), "the shared file outlives its region");
        assertEquals(gpu.totalMemory(), gpu.freeMemory());
    }

    @Test
    void configurationComesFromTheEnvironment() {
        HostBackendConfig config = HostBackendConfig.fromEnvironment(java.util.Map.of("NODE_NAME", "n1",
                "WEIGHTLIFT_HOST_MEMORY_LIMIT", "2Gi", "WEIGHTLIFT_HOST_GPUS", "4", "WEIGHTLIFT_HOST_GPU_MEMORY", "512Mi"));
        assertEquals("n1", config.nodeName());
        assertEquals(4, config.gpuCount());
        assertEquals(2L << 30, config.hostMemoryLimit());
        assertEquals(512L << 20, config.gpuMemoryBytes());
        assertEquals(Path.of("/dev/shm"), config.shmDir());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HostBackendConfig.fromEnvironment(java.util.Map.of("WEIGHTLIFT_HOST_MEMORY_LIMIT", "lots")));
        assertTrue(e.getMessage().contains("WEIGHTLIFT_HOST_MEMORY_LIMIT"), e.getMessage());
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static long fileCount(Path dir) {
        try (var files = Files.list(dir)) {
            return files.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
