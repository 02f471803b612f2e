package dev.weightlift.agent.p2p;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.weightlift.agent.device.host.HostMemoryAllocator;
import dev.weightlift.agent.store.CheckpointVersion;
import dev.weightlift.agent.store.HostStore;
import dev.weightlift.agent.store.TensorLocation;
import dev.weightlift.agent.store.safetensors.Dtype;
import dev.weightlift.agent.store.safetensors.TestSafetensors;
import dev.weightlift.agent.transport.ucx.BufferDescriptor;
import dev.weightlift.agent.transport.ucx.Ucx;
import dev.weightlift.protocol.CheckpointExposed;
import dev.weightlift.protocol.CheckpointLoaded;
import dev.weightlift.protocol.ExposeCheckpoint;
import dev.weightlift.protocol.FetchCheckpoint;
import dev.weightlift.protocol.KeepCheckpoints;
import dev.weightlift.protocol.broadcast.FetchWork;
import dev.weightlift.protocol.broadcast.LoadedTensor;
import dev.weightlift.protocol.broadcast.WorkCodec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A holder and a receiver service in one process, over real UCX (TCP here) and real host stores. */
class P2pServiceTest {

    @TempDir
    Path dir;

    private HostMemoryAllocator holderMemory;
    private HostMemoryAllocator receiverMemory;
    private HostStore holderStore;
    private HostStore receiverStore;
    private P2pService holder;
    private P2pService receiver;
    private TestSafetensors file;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(Ucx.unavailableReason() == null, () -> "UCX is missing here: " + Ucx.unavailableReason());
        holderMemory = new HostMemoryAllocator(64L << 20);
        receiverMemory = new HostMemoryAllocator(64L << 20);
        holderStore = new HostStore(holderMemory);
        receiverStore = new HostStore(receiverMemory);
        Random random = new Random(7);
        file = new TestSafetensors().add("embed", Dtype.BF16, new long[] {64, 33}, random)
                .add("layer.0.weight", Dtype.F32, new long[] {17, 19}, random).add("norm", Dtype.F16, new long[] {5}, random);
        holderStore.load("m", "v1", List.of(file.write(dir.resolve("model.safetensors"))));
        holder = new P2pService(holderStore, "127.0.0.1", 0, Duration.ofSeconds(10), new SimpleMeterRegistry());
        receiver = new P2pService(receiverStore, "127.0.0.1", 0, Duration.ofSeconds(10), new SimpleMeterRegistry());
    }

    @AfterEach
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {receiver, holder, receiverStore, holderStore}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        if (holderMemory != null) {
            holderMemory.close();
            receiverMemory.close();
            assertEquals(0, holderMemory.leakedRegions() + receiverMemory.leakedRegions(), "regions left open");
        }
    }

    @Test
    void aReceiverBuildsTheVersionFromTheHoldersBuffersByteForByte() throws Exception {
        CheckpointExposed exposed = holder.expose(new ExposeCheckpoint("m", "v1"));
        List<LoadedTensor> held = WorkCodec.tensors(exposed.tensors());
        assertEquals(3, held.size());

        CheckpointLoaded loaded = receiver.fetch(new FetchCheckpoint("ns/u/g1/scale-up/p", "m", "v1", WorkCodec.toTree(oneBufferPerTwoTensors(exposed, held))));

        assertEquals(3, WorkCodec.tensors(loaded.tensors()).size());
        assertReceivedEveryByte();
        assertEquals(file.tensors().stream().mapToLong(t -> t.data().length).sum(), receiver.bytesRead());
        assertEquals(0, holder.bytesRead());
    }

    @Test
    void aServedVersionStaysPinnedUntilTheOperatorNoLongerKeepsIt() {
        holder.expose(new ExposeCheckpoint("m", "v1"));
        holder.keep(new KeepCheckpoints(List.of(new KeepCheckpoints.Kept("m", "v1"), new KeepCheckpoints.Kept("m", "not-held"))));
        IllegalStateException pinned = assertThrows(IllegalStateException.class, () -> holderStore.release("m", "v1"));
        assertTrue(pinned.getMessage().contains("in use"), pinned.getMessage());

        holder.keep(new KeepCheckpoints(List.of()));

        assertTrue(holderStore.release("m", "v1"));
    }

    @Test
    void aReadNamingABufferTheHolderDoesNotExposeFailsNamingIt() {
        CheckpointExposed exposed = holder.expose(new ExposeCheckpoint("m", "v1"));
        FetchWork bad = new FetchWork(List.of(new FetchWork.Source("node-a", exposed.host(), exposed.port(), exposed.buffers())),
                List.of(new FetchWork.Buffer(256, List.of(), List.of(new FetchWork.Read(0, 9, 0, 0, 16)))));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> receiver.fetch(new FetchCheckpoint("ns/u/g1/scale-up/p", "m", "v1", WorkCodec.toTree(bad))));

        assertTrue(e.getMessage().contains("buffer 9 of node node-a"), e.getMessage());
        assertTrue(receiverStore.get("m", "v1").isEmpty());
    }

    @Test
    void aReceiverHoldingAShareReadsOnlyTheTensorsItLacks() throws Exception {
        TestSafetensors.Tensor embed = file.tensors().get(0);
        receiverStore.load("m", "v1", List.of(new TestSafetensors().add(embed.name(), embed.dtype(), embed.shape(), embed.data())
                .write(dir.resolve("share.safetensors"))));
        CheckpointExposed exposed = holder.expose(new ExposeCheckpoint("m", "v1"));
        List<LoadedTensor> held = WorkCodec.tensors(exposed.tensors());

        CheckpointLoaded loaded = receiver.fetch(new FetchCheckpoint("ns/u/g1/scale-up/p", "m", "v1",
                WorkCodec.toTree(fetchWork(exposed, List.of(held.subList(1, 3))))));

        assertEquals(3, WorkCodec.tensors(loaded.tensors()).size());
        assertReceivedEveryByte();
        assertEquals(file.tensors().get(1).data().length + file.tensors().get(2).data().length, receiver.bytesRead(),
                "read only what it lacked");
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void abortingTheUpdateStopsItsFetchAtOnceAndFreesWhatItTook() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
                P2pService patient = new P2pService(receiverStore, "127.0.0.1", 0, Duration.ofMinutes(10), new SimpleMeterRegistry())) {
            String nowhere = new BufferDescriptor("b0", 0x10000, 1 << 20, new byte[] {1, 2, 3, 4}).toBase64();
            FetchWork work = new FetchWork(List.of(new FetchWork.Source("node-a", "127.0.0.1", silent.getLocalPort(), List.of(nowhere))),
                    List.of(new FetchWork.Buffer(1 << 20, List.of(new LoadedTensor("w", "F32", List.of(1L << 18), 1 << 20, "0", 0)),
                            List.of(new FetchWork.Read(0, 0, 0, 0, 1 << 20)))));
            CompletableFuture<CheckpointLoaded> fetching = CompletableFuture.supplyAsync(() -> {
                try {
                    return patient.fetch(new FetchCheckpoint("ns/u/g1/scale-up/p", "m", "v1", WorkCodec.toTree(work)));
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (receiverStore.bytesInUse() == 0 && !fetching.isDone()) {
                assertTrue(System.nanoTime() < deadline, "the fetch never started reading");
                Thread.sleep(5);
            }
            long start = System.nanoTime();

            patient.abort("ns/u/g1/scale-up/p", "scale-up cancelled", Duration.ofSeconds(20));

            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(millis < 5_000, "stopping took " + millis + " ms");
            ExecutionException failed = assertThrows(ExecutionException.class, () -> fetching.get(1, TimeUnit.SECONDS));
            assertTrue(failed.getCause().getMessage().contains("reading stopped: scale-up cancelled"), failed.getCause().getMessage());
            assertTrue(receiverStore.get("m", "v1").isEmpty());
            assertEquals(0, receiverStore.bytesInUse(), "the staging buffer is freed");
        }
    }

    private void assertReceivedEveryByte() {
        CheckpointVersion received = receiverStore.get("m", "v1").orElseThrow();
        for (TestSafetensors.Tensor expected : file.tensors()) {
            TensorLocation at = received.tensor(expected.name()).orElseThrow();
            assertEquals(expected.dtype(), at.dtype().name(), expected.name());
            assertArrayEquals(expected.shape(), at.shape(), expected.name());
            ByteBuffer bytes = received.buffers().get(at.buffer()).view(at.offset(), (int) at.nbytes());
            byte[] actual = new byte[bytes.remaining()];
            bytes.get(actual);
            assertArrayEquals(expected.data(), actual, expected.name());
        }
    }

    /** Two receiver buffers: the first two tensors in one, the last in the other, each slot 256-aligned. */
    private static FetchWork oneBufferPerTwoTensors(CheckpointExposed exposed, List<LoadedTensor> held) {
        return fetchWork(exposed, List.of(held.subList(0, 2), held.subList(2, 3)));
    }

    /** One receiver buffer per group of the holder's tensors, each slot 256-aligned. */
    private static FetchWork fetchWork(CheckpointExposed exposed, List<List<LoadedTensor>> groups) {
        List<FetchWork.Buffer> buffers = new ArrayList<>();
        for (List<LoadedTensor> group : groups) {
            List<LoadedTensor> tensors = new ArrayList<>();
            List<FetchWork.Read> reads = new ArrayList<>();
            long offset = 0;
            for (LoadedTensor t : group) {
                tensors.add(new LoadedTensor(t.name(), t.dtype(), t.shape(), t.bytes(), Integer.toString(buffers.size()), offset));
                reads.add(new FetchWork.Read(0, Integer.parseInt(t.buffer()), t.offset(), offset, t.bytes()));
                offset += (t.bytes() + 255) / 256 * 256;
            }
            buffers.add(new FetchWork.Buffer(offset, tensors, reads));
        }
        return new FetchWork(List.of(new FetchWork.Source("node-a", exposed.host(), exposed.port(), exposed.buffers())), buffers);
    }
}
