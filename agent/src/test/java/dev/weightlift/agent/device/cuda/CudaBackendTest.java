package dev.weightlift.agent.device.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.weightlift.agent.AgentEnvironment;
import dev.weightlift.agent.BackendProvider;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.DeviceBackend;
import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryLimitException;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.device.SharedRegion;
import dev.weightlift.agent.device.StreamEvent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.time.Duration;
import java.util.Random;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaBackendTest {

    private static final long MIB = 1 << 20;

    @Test
    void withoutCudaOpeningSaysSoAndWhy() {
        assumeFalse(CudaRuntime.available(), "this machine has CUDA");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaBackend.open(MIB));
        assertTrue(e.getMessage().startsWith("the cuda backend cannot load the CUDA runtime")
                || e.getMessage().startsWith("the cuda backend found no usable GPU"), e.getMessage());
        assertTrue(CudaBackend.unavailableReason().isPresent());
        assertThrows(CudaUnavailableException.class, NcclCollective::newUniqueId);
    }

    @Test
    void theAgentFindsTheCudaBackendByName() {
        BackendProvider cuda = ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("cuda")).findFirst().orElseThrow();
        AgentEnvironment environment = AgentEnvironment.from(Map.of("NODE_NAME", "n1", "HOST_IP", "10.0.0.1",
                "WEIGHTLIFT_HUB_ENDPOINT", "tcp://hub:7100", "WEIGHTLIFT_BACKEND", "cuda", "WEIGHTLIFT_HOST_MEMORY_LIMIT", "64Mi"));
        if (CudaRuntime.available()) {
            try (DeviceBackend backend = cuda.open(environment)) {
                assertEquals("cuda", backend.name());
                assertEquals(64 * MIB, backend.hostAllocator().limitBytes());
            }
        } else {
            assertThrows(CudaUnavailableException.class, () -> cuda.open(environment));
        }
    }

    @Test
    void uuidsAreWrittenTheNvmlWay() {
        byte[] bytes = new byte[16];
        for (int i = 0; i < 16; i++) {
            bytes[i] = (byte) (0xf0 + i);
        }
        assertEquals("GPU-f0f1f2f3-f4f5-f6f7-f8f9-fafbfcfdfeff", CudaGpu.formatUuid(bytes));
    }

    @Test
    void gpusHaveUuidsAndMemory() {
        assumeTrue(CudaRuntime.available(), "no CUDA here");
        try (CudaBackend backend = CudaBackend.open(64 * MIB)) {
            assertTrue(!backend.gpus().isEmpty());
            CudaGpu gpu = backend.gpu(0);
            assertTrue(gpu.uuid().matches("GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), gpu.uuid());
            assertTrue(gpu.freeMemory() > 0 && gpu.freeMemory() <= gpu.totalMemory());
            assertEquals(gpu, backend.gpuByUuid(gpu.uuid()).orElseThrow());
        }
    }

    @Test
    void bytesSurviveHostToDeviceToSharedToHost() {
        assumeTrue(CudaRuntime.available(), "no CUDA here");
        int size = (int) (8 * MIB);
        byte[] data = new byte[size];
        new Random(7).nextBytes(data);
        try (CudaBackend backend = CudaBackend.open(64 * MIB)) {
            CudaGpu gpu = backend.gpu(0);
            MemoryRegion src = backend.hostAllocator().allocatePinned(size);
            MemoryRegion dst = backend.hostAllocator().allocatePinned(size);
            MemoryRegion staging = gpu.allocate(size);
            SharedRegion shared = gpu.allocateShared(2L * size);
            assertEquals(MemoryKind.HOST_PINNED, src.kind());
            assertEquals(ShareHandle.Type.CUDA_IPC, shared.handle().type());
            assertEquals(gpu.uuid(), shared.handle().gpuUuid());
            src.view(0, size).put(data);
            CopyStream h2d = gpu.newStream("h2d");
            CopyStream d2h = gpu.newStream("d2h");
            h2d.copy(src, 0, staging, 0, size);
            h2d.copy(staging, 0, shared, size, size);
            try (StreamEvent copied = h2d.record()) {
                d2h.waitFor(copied);
                d2h.copy(shared, size, dst, 0, size);
                d2h.synchronize();
                assertTrue(copied.await(Duration.ofSeconds(5)));
            }
            byte[] back = new byte[size];
            ByteBuffer view = dst.view(0, size);
            view.get(back);
            assertArrayEquals(data, back);
            assertEquals(2L * size, backend.hostAllocator().bytesInUse());
            src.close();
            dst.close();
            staging.close();
            shared.close();
            assertEquals(0, backend.hostAllocator().bytesInUse());
            assertEquals(0, gpu.bytesAllocated());
        }
    }

    @Test
    void closingTheBackendReturnsEveryByte() {
        assumeTrue(CudaRuntime.available(), "no CUDA here");
        long before;
        try (CudaBackend probe = CudaBackend.open(MIB)) {
            before = probe.gpu(0).freeMemory();
        }
        CudaBackend backend = CudaBackend.open(256 * MIB);
        CudaGpu gpu = backend.gpu(0);
        gpu.allocate(512 * MIB);
        gpu.allocateShared(512 * MIB);
        backend.hostAllocator().allocatePinned(128 * MIB);
        gpu.newStream("left-open");
        assertTrue(gpu.freeMemory() <= before - 1024 * MIB);
        backend.close();
        assertEquals(1, backend.hostAllocator().leakedRegions());
        try (CudaBackend after = CudaBackend.open(MIB)) {
            assertTrue(Math.abs(after.gpu(0).freeMemory() - before) < 64 * MIB,
                    "free memory before " + before + ", after " + after.gpu(0).freeMemory());
        }
    }

    @Test
    void aFileIsPinnedInPlace(@TempDir Path dir) throws IOException {
        assumeTrue(CudaRuntime.available(), "no CUDA here");
        byte[] data = new byte[(int) (4 * MIB)];
        new Random(11).nextBytes(data);
        Path file = Files.write(dir.resolve("weights.bin"), data);
        try (CudaBackend backend = CudaBackend.open(16 * MIB)) {
            CudaGpu gpu = backend.gpu(0);
            try (MemoryRegion mapped = backend.hostAllocator().mapPinned(file, MIB, 2 * MIB);
                    MemoryRegion device = gpu.allocate(2 * MIB);
                    MemoryRegion back = backend.hostAllocator().allocatePinned(2 * MIB);
                    CopyStream stream = gpu.newStream("mapped")) {
                assertEquals(MemoryKind.HOST_MAPPED, mapped.kind());
                stream.copy(mapped, 0, device, 0, 2 * MIB);
                stream.copy(device, 0, back, 0, 2 * MIB);
                stream.synchronize();
                byte[] got = new byte[(int) (2 * MIB)];
                back.view(0, got.length).get(got);
                assertArrayEquals(Arrays.copyOfRange(data, (int) MIB, (int) (3 * MIB)), got);
            }
            assertEquals(0, backend.hostAllocator().bytesInUse());
        }
    }

    @Test
    void pinnedMemoryStopsAtTheLimit() {
        assumeTrue(CudaRuntime.available(), "no CUDA here");
        try (CudaBackend backend = CudaBackend.open(16 * MIB)) {
            try (MemoryRegion first = backend.hostAllocator().allocatePinned(12 * MIB)) {
                MemoryLimitException e = assertThrows(MemoryLimitException.class,
                        () -> backend.hostAllocator().allocatePinned(8 * MIB));
                assertEquals(12 * MIB, e.inUse());
            }
            backend.hostAllocator().allocatePinned(16 * MIB).close();
        }
    }

    @Test
    void aCommunicatorOfOneBroadcastsInPlace() {
        assumeTrue(CudaRuntime.available(), "no CUDA here");
        try (CudaBackend backend = CudaBackend.open(MIB)) {
            CudaGpu gpu = backend.gpu(0);
            try (NcclCollective nccl = NcclCollective.join(gpu, NcclCollective.newUniqueId(), 0, 1);
                    MemoryRegion buffer = gpu.allocate(MIB);
                    CopyStream stream = gpu.newStream("nccl")) {
                assertEquals(1, nccl.size());
                nccl.broadcast(buffer, 0, MIB, 0, stream);
                stream.synchronize();
            }
        }
    }
}
