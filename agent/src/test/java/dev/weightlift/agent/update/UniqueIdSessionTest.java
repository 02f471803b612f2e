package dev.weightlift.agent.update;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NCCL relay on CI, with a fake joiner in NCCL's place (no GPU here; the CUDA path itself is only
 * compiled): only rank 0's agent makes a unique id, its join info carries it, every agent joins with it once the
 * operator has handed them all join infos by rank, local ranks join at once (a join returns only when every rank
 * has joined, as ncclCommInitRank does), and a collective that never forms fails at the deadline naming it.
 */
class UniqueIdSessionTest {

    static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path shm;

    HostBackend backend;
    List<Gpu> gpus;
    final AtomicInteger idsMade = new AtomicInteger();
    final Map<Integer, byte[]> joinedWith = new ConcurrentHashMap<>();
    final List<FakeCollective> closedOrOpen = new ArrayList<>();

    @BeforeEach
    void setUp() {
        backend = new HostBackend(new HostBackendConfig("nccl-relay-test", 3, 1L << 20, 1L << 20, shm, Duration.ofSeconds(5)));
        gpus = backend.gpus();
    }

    @AfterEach
    void tearDown() {
        backend.close();
    }

    @Test
    void everyAgentJoinsWithTheIdThatRankZerosAgentMade() throws Exception {
        CountDownLatch allRanks = new CountDownLatch(3);
        UniqueIdSession.Joiner joiner = barrierJoiner(allRanks);
        UniqueIdSession first = session(joiner, 0, 1);
        UniqueIdSession second = session(joiner, 2);

        assertEquals(1, idsMade.get(), "only the agent of rank 0 makes an id");
        assertEquals("", second.joinInfo());
        List<String> joinInfo = List.of(first.joinInfo(), first.joinInfo(), second.joinInfo());

        Thread other = new Thread(() -> {
            try {
                second.connect(joinInfo, TIMEOUT);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        other.start();
        Map<Integer, Collective> local = first.connect(joinInfo, TIMEOUT);
        other.join(TIMEOUT.toMillis());

        assertEquals(Map.of(0, 3, 1, 3), Map.of(0, local.get(0).size(), 1, local.get(1).size()));
        byte[] id = java.util.Base64.getDecoder().decode(first.joinInfo());
        for (int rank = 0; rank < 3; rank++) {
            assertArrayEquals(id, joinedWith.get(rank), "rank " + rank);
        }
        first.close();
        second.close();
        assertTrue(closedOrOpen.stream().allMatch(c -> c.closed), "every communicator closed");
    }

    @Test
    void aCollectiveThatNeverFormsFailsAtTheDeadlineNamingIt() {
        UniqueIdSession lonely = session(barrierJoiner(new CountDownLatch(2)), 0);
        long start = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> lonely.connect(List.of(lonely.joinInfo(), ""), Duration.ofMillis(300)));
        assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(TIMEOUT) < 0);
        assertTrue(e.getMessage().contains("the collective of 2 ranks did not form within 300 ms"), e.getMessage());
        lonely.close();
    }

    @Test
    void aRunWithoutRankZerosIdIsRefused() {
        UniqueIdSession session = session(barrierJoiner(new CountDownLatch(1)), 1);
        IOException e = assertThrows(IOException.class, () -> session.connect(List.of("", ""), TIMEOUT));
        assertTrue(e.getMessage().contains("no collective unique id from rank 0's agent"), e.getMessage());
    }

    private UniqueIdSession session(UniqueIdSession.Joiner joiner, int... ranks) {
        Map<Integer, Gpu> local = new HashMap<>();
        for (int rank : ranks) {
            local.put(rank, gpus.get(rank));
        }
        return new UniqueIdSession("ns/u/g1", local, () -> {
            idsMade.incrementAndGet();
            return new byte[] {1, 2, 3, (byte) idsMade.get()};
        }, joiner);
    }

    /** Joins like NCCL: returns only once {@code allRanks} have joined (or fails after the test's deadline). */
    private UniqueIdSession.Joiner barrierJoiner(CountDownLatch allRanks) {
        return (gpu, id, rank, size) -> {
            joinedWith.put(rank, id);
            allRanks.countDown();
            try {
                if (!allRanks.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new IllegalStateException("rank " + rank + " waited in vain");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            FakeCollective collective = new FakeCollective(rank, size);
            synchronized (closedOrOpen) {
                closedOrOpen.add(collective);
            }
            return collective;
        };
    }

    static final class FakeCollective implements Collective {
        final int rank;
        final int size;
        volatile boolean closed;

        FakeCollective(int rank, int size) {
            this.rank = rank;
            this.size = size;
        }

        @Override
        public int rank() {
            return rank;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public void broadcast(MemoryRegion region, long offset, long length, int root, CopyStream stream) {
            throw new UnsupportedOperationException("not broadcast in this test");
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
