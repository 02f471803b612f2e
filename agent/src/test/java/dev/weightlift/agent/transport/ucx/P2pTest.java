package dev.weightlift.agent.transport.ucx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.host.HostMemoryAllocator;
import dev.weightlift.agent.store.CheckpointVersion;
import dev.weightlift.agent.store.HostStore;
import dev.weightlift.agent.store.TensorLocation;
import dev.weightlift.agent.store.safetensors.Dtype;
import dev.weightlift.agent.store.safetensors.TestSafetensors;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class P2pTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final P2pReceiverOptions SMALL_CHUNKS = new P2pReceiverOptions(64 * 1024, 8);

    private HostMemoryAllocator allocator;
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void start() {
        assumeTrue(Ucx.unavailableReason() == null, () -> "UCX is missing here: " + Ucx.unavailableReason());
        allocator = new HostMemoryAllocator(1L << 30);
    }

    @AfterEach
    void stop() {
        processes.forEach(Process::destroyForcibly);
        if (allocator != null) {
            allocator.close();
            assertEquals(0, allocator.leakedRegions(), "regions left open");
        }
    }

    @Test
    void aReceiverReadsRangesOfSeveralBuffersFromAHolderInThisProcess() {
        long seed = 3;
        try (MemoryRegion b0 = allocator.allocatePinned(1_000_000);
                MemoryRegion b1 = allocator.allocatePinned(300_001);
                MemoryRegion staging = allocator.allocatePinned(2_000_000);
                P2pHolder holder = P2pHolder.start(new InetSocketAddress("127.0.0.1", 0));
                P2pReceiver receiver = P2pReceiver.create(SMALL_CHUNKS)) {
            Pattern.fill(b0, seed, 0);
            Pattern.fill(b1, seed, 1);
            BufferDescriptor d0 = holder.expose("b0", b0);
            BufferDescriptor d1 = BufferDescriptor.fromBase64(holder.expose("b1", b1).toBase64());
            List<RangeRead> reads = List.of(
                    new RangeRead(holder.address(), d0, 0, 1_000_000, 0),
                    new RangeRead(holder.address(), d1, 17, 300_001 - 17, 1_000_000),
                    new RangeRead(holder.address(), d0, 999_999, 1, 1_400_000));
            receiver.read(reads, staging, DEADLINE);
            assertEquals(1_000_000 + 300_001 - 17 + 1, receiver.bytesRead());
            assertNull(Pattern.check(staging, 0, 1_000_000, seed, 0, 0));
            assertNull(Pattern.check(staging, 1_000_000, 300_001 - 17, seed, 1, 17));
            assertNull(Pattern.check(staging, 1_400_000, 1, seed, 0, 999_999));
            assertEquals(2, holder.exposedBuffers());
            assertEquals(1, receiver.registeredRegions());
            holder.withdraw("b1");
            assertEquals(1, holder.exposedBuffers());
            receiver.release(staging);
            assertEquals(0, receiver.registeredRegions());
        }
    }

    @Test
    void aReceiverReadsEveryByteFromAHolderProcessAndFailsClearlyWhenItDiesMidRead() throws Exception {
        long seed = 11;
        long[] sizes = {4_000_000, 123_457, 8_388_608};
        Holder holder = holderProcess(seed, sizes);
        try (MemoryRegion staging = allocator.allocatePinned(16L << 20);
                P2pReceiver receiver = P2pReceiver.create(SMALL_CHUNKS)) {
            List<RangeRead> reads = new ArrayList<>();
            long at = 0;
            for (int b = 0; b < sizes.length; b++) {
                long offset = b * 1001L;
                reads.add(new RangeRead(holder.address(), holder.buffers().get(b), offset, sizes[b] - offset, at));
                at += sizes[b];
            }
            receiver.read(reads, staging, DEADLINE);
            at = 0;
            for (int b = 0; b < sizes.length; b++) {
                long offset = b * 1001L;
                assertNull(Pattern.check(staging, at, sizes[b] - offset, seed, b, offset));
                at += sizes[b];
            }
            CountDownLatch reading = new CountDownLatch(2);
            CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                try {
                    while (System.nanoTime() < until) {
                        reading.countDown();
                        receiver.read(reads, staging, DEADLINE);
                    }
                    return null;
                } catch (RuntimeException e) {
                    return e;
                }
            });
            assertTrue(reading.await(10, TimeUnit.SECONDS), "reads are running");
            holder.process().destroyForcibly();
            long start = System.nanoTime();
            Throwable thrown = outcome.get(DEADLINE.toMillis() + 5_000, TimeUnit.MILLISECONDS);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(thrown instanceof P2pException, "a read failed with a P2pException: " + thrown);
            P2pException failed = (P2pException) thrown;
            assertTrue(failed.getMessage().contains("127.0.0.1:" + holder.address().getPort()), failed.getMessage());
            assertTrue(millis <= DEADLINE.toMillis() + 2_000, "failing took " + millis + " ms");
        }
    }

    @Test
    void aHolderThatNeverAnswersFailsTheReadAtItsDeadline() throws Exception {
        try (MemoryRegion staging = allocator.allocatePinned(1 << 20);
                P2pReceiver receiver = P2pReceiver.create(SMALL_CHUNKS);
                java.net.ServerSocket silent = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            BufferDescriptor nowhere = new BufferDescriptor("b0", 0x10000, 1 << 20, new byte[] {1, 2, 3, 4});
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", silent.getLocalPort());
            long start = System.nanoTime();
            P2pException failed = assertThrows(P2pException.class, () -> receiver.read(
                    List.of(new RangeRead(address, nowhere, 0, 1 << 20, 0)), staging, Duration.ofMillis(800)));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(failed.getMessage().contains("127.0.0.1:" + silent.getLocalPort()), failed.getMessage());
            assertTrue(millis < 5_000, "failing took " + millis + " ms");
        }
    }

    @Test
    void aHostStoreVersionIsExposedBufferByBufferAndReadTensorByTensor(@TempDir Path dir) throws Exception {
        TestSafetensors file = new TestSafetensors();
        Random random = new Random(5);
        for (int t = 0; t < 6; t++) {
            file.add("layer" + t + ".weight", Dtype.F32, new long[] {64, 33 + t}, random);
        }
        file.write(dir.resolve("model.safetensors"));
        try (HostStore store = new HostStore(allocator);
                P2pHolder holder = P2pHolder.start(new InetSocketAddress("127.0.0.1", 0));
                P2pReceiver receiver = P2pReceiver.create(SMALL_CHUNKS)) {
            CheckpointVersion version = store.loadDirectory("model", "v1", dir);
            List<BufferDescriptor> buffers = holder.expose(version);
            assertEquals(version.buffers().size(), buffers.size());
            assertEquals(P2pHolder.bufferId("model", "v1", 0), buffers.get(0).bufferId());
            try (MemoryRegion staging = allocator.allocatePinned(version.bytes())) {
                List<RangeRead> reads = new ArrayList<>();
                long at = 0;
                for (TensorLocation tensor : version.tensors()) {
                    reads.add(new RangeRead(holder.address(), buffers.get(tensor.buffer()), tensor.offset(), tensor.nbytes(), at));
                    at += tensor.nbytes();
                }
                receiver.read(reads, staging, DEADLINE);
                at = 0;
                for (TestSafetensors.Tensor tensor : file.tensors()) {
                    byte[] got = new byte[tensor.data().length];
                    staging.view(at, got.length).get(got);
                    assertArrayEquals(tensor.data(), got, tensor.name());
                    at += got.length;
                }
                receiver.release(staging);
            }
            holder.withdraw(version);
            assertEquals(0, holder.exposedBuffers());
        }
    }

    @Test
    void closingReleasesEveryRegistration() {
        try (MemoryRegion b0 = allocator.allocatePinned(65_536);
                MemoryRegion staging = allocator.allocatePinned(65_536)) {
            P2pHolder holder = P2pHolder.start(new InetSocketAddress("127.0.0.1", 0));
            P2pReceiver receiver = P2pReceiver.create(SMALL_CHUNKS);
            BufferDescriptor d0 = holder.expose("b0", b0);
            holder.expose("b0-again", b0);
            receiver.read(List.of(new RangeRead(holder.address(), d0, 0, 65_536, 0)), staging, DEADLINE);
            assertEquals(2, holder.exposedBuffers());
            assertEquals(1, receiver.registeredRegions());
            receiver.close();
            holder.close();
            assertEquals(0, holder.exposedBuffers());
            assertEquals(0, receiver.registeredRegions());
            assertThrows(IllegalStateException.class, () -> holder.expose("late", b0));
            assertThrows(IllegalStateException.class, () -> receiver.read(List.of(), staging, DEADLINE));
        }
    }

    @Test
    void descriptorsRoundTripAndRejectGarbage() {
        BufferDescriptor descriptor = new BufferDescriptor("v7/shard-3", 0x7f00_0000_1000L, 123_456_789L, new byte[] {9, 8, 7});
        assertEquals(descriptor, BufferDescriptor.fromBase64(descriptor.toBase64()));
        assertEquals(descriptor, BufferDescriptor.fromBytes(descriptor.toBytes()));
        IllegalArgumentException garbage = assertThrows(IllegalArgumentException.class, () -> BufferDescriptor.fromBase64("bm9wZQ=="));
        assertTrue(garbage.getMessage().contains("descriptor"), garbage.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BufferDescriptor.fromBase64("***"));
    }

    private record Holder(Process process, InetSocketAddress address, List<BufferDescriptor> buffers) {
    }

    private Holder holderProcess(long seed, long... sizes) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-cp", System.getProperty("java.class.path"), HolderProcess.class.getName(), Long.toString(seed)));
        for (long size : sizes) {
            command.add(Long.toString(size));
        }
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        processes.add(process);
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        InetSocketAddress address = null;
        List<BufferDescriptor> buffers = new ArrayList<>();
        for (String line = out.readLine(); line != null && !line.equals("@ready"); line = out.readLine()) {
            if (line.startsWith("@port ")) {
                address = new InetSocketAddress("127.0.0.1", Integer.parseInt(line.substring(6)));
            } else if (line.startsWith("@buffer ")) {
                buffers.add(BufferDescriptor.fromBase64(line.substring(8)));
            }
        }
        if (address == null || buffers.size() != sizes.length) {
            throw new IllegalStateException("the holder process did not start (exit " + (process.isAlive() ? "-" : process.exitValue()) + ")");
        }
        return new Holder(process, address, buffers);
    }
}
