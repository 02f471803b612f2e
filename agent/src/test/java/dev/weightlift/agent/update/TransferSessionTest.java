package dev.weightlift.agent.update;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.CopyFailedException;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.NativeMemory;
import dev.weightlift.agent.device.SharedRegion;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
import dev.weightlift.agent.transport.host.TransferServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flow's host collective seam: two "agents" (a transfer server and a session each) with three ranks between
 * them, wired as the operator wires them (join info by rank, several ranks on one agent), over real loopback sockets.
 */
class TransferSessionTest {

    static final Duration TIMEOUT = Duration.ofSeconds(10);
    static final int BYTES = 3 << 20;

    @TempDir
    Path shm;

    HostBackend backend;
    TransferServer firstServer;
    TransferServer secondServer;
    CollectiveFactory.Session first;
    CollectiveFactory.Session second;

    @BeforeEach
    void setUp() {
        backend = new HostBackend(new HostBackendConfig("session-test", 3, 64L << 20, 64L << 20, shm, Duration.ofSeconds(30)));
        firstServer = TransferServer.start(new InetSocketAddress("127.0.0.1", 0), TIMEOUT);
        secondServer = TransferServer.start(new InetSocketAddress("127.0.0.1", 0), TIMEOUT);
        first = open(firstServer, 0);
        second = open(secondServer, 1);
    }

    @AfterEach
    void tearDown() {
        first.close();
        second.close();
        firstServer.close();
        secondServer.close();
        backend.close();
        assertEquals(0, backend.leakedRegions(), "regions left open");
    }

    @Test
    void everyRankReceivesTheRootsBytes() throws Exception {
        first = open(firstServer, 0, 1);
        second = open(secondServer, 2);
        List<String> joinInfo = List.of(first.joinInfo(), first.joinInfo(), second.joinInfo());
        Map<Integer, Collective> all = new HashMap<>(first.connect(joinInfo, TIMEOUT));
        all.putAll(second.connect(joinInfo, TIMEOUT));
        assertEquals(3, all.get(2).size());

        List<Gpu> gpus = backend.gpus();
        List<SharedRegion> regions = new ArrayList<>();
        List<CopyStream> streams = new ArrayList<>();
        byte[] expected = new byte[BYTES];
        new Random(7).nextBytes(expected);
        for (Gpu gpu : gpus) {
            regions.add(gpu.allocateShared(BYTES + 4096));
            streams.add(gpu.newStream("publish"));
        }
        NativeMemory.view(regions.get(1).address() + 4096, BYTES).put(expected);
        for (int rank = 0; rank < 3; rank++) {
            all.get(rank).broadcast(regions.get(rank), 4096, BYTES, 1, streams.get(rank));
        }
        streams.forEach(CopyStream::synchronize);
        for (int rank = 0; rank < 3; rank++) {
            byte[] got = new byte[BYTES];
            NativeMemory.view(regions.get(rank).address() + 4096, BYTES).get(got);
            assertArrayEquals(expected, got, "rank " + rank);
        }
        streams.forEach(CopyStream::close);
        regions.forEach(SharedRegion::close);
    }

    @Test
    void closingASessionBreaksAPeersPendingBroadcastNamingTheRanks() throws Exception {
        List<String> joinInfo = List.of(first.joinInfo(), second.joinInfo());
        Collective root = first.connect(joinInfo, TIMEOUT).get(0);
        Collective receiver = second.connect(joinInfo, TIMEOUT).get(1);
        Gpu gpu = backend.gpus().get(0);
        try (SharedRegion region = gpu.allocateShared(1 << 20); CopyStream stream = gpu.newStream("publish");
                CopyStream rootStream = gpu.newStream("root")) {
            // One broadcast through first, so that the ring's connections stand: a rank that leaves before its
            // connection to the next one is made is only noticed at the deadline.
            root.broadcast(region, 0, 4096, 0, rootStream);
            receiver.broadcast(region, 4096, 4096, 0, stream);
            rootStream.synchronize();
            stream.synchronize();
            receiver.broadcast(region, 0, 1 << 20, 0, stream);
            long start = System.nanoTime();
            first.close();
            CopyFailedException e = assertThrows(CopyFailedException.class, stream::synchronize);
            assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(TIMEOUT) < 0, "failed only at the deadline");
            assertTrue(e.getMessage().contains("failed on rank 1 of 2") && e.getMessage().contains("rank 0 ("), e.getMessage());
        }
    }

    @Test
    void malformedJoinInfoIsRefusedNamingTheRank() {
        IOException e = assertThrows(IOException.class, () -> first.connect(List.of(first.joinInfo(), "node-b"), TIMEOUT));
        assertTrue(e.getMessage().contains("rank 1's transfer address 'node-b'"), e.getMessage());
    }

    @Test
    void aClosedSessionDoesNotConnect() {
        first.close();
        IOException e = assertThrows(IOException.class, () -> first.connect(List.of(first.joinInfo()), TIMEOUT));
        assertTrue(e.getMessage().contains("closed before it connected"), e.getMessage());
    }

    /** A session of update ns/u/g1 on {@code server} for the given ranks (each on one of the backend's GPUs). */
    private CollectiveFactory.Session open(TransferServer server, int... ranks) {
        if (first != null && server == firstServer) {
            first.close();
        }
        if (second != null && server == secondServer) {
            second.close();
        }
        Map<Integer, Gpu> gpus = new HashMap<>();
        for (int rank : ranks) {
            gpus.put(rank, backend.gpus().get(rank));
        }
        try {
            return CollectiveFactory.hostTransfer(server, "127.0.0.1").open("ns/u/g1", gpus);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
