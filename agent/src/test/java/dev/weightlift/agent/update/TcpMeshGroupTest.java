package dev.weightlift.agent.update;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.NativeMemory;
import dev.weightlift.agent.device.SharedRegion;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two "agents" (groups) with three ranks between them over real loopback sockets, into shared host-backend memory. */
class TcpMeshGroupTest {

    static final Duration TIMEOUT = Duration.ofSeconds(20);
    static final int BYTES = 3 << 20;

    HostBackend backend;
    TcpMeshGroup first;
    TcpMeshGroup second;

    @BeforeEach
    void setUp() throws Exception {
        backend = new HostBackend(new HostBackendConfig("mesh-test", 3, 64L << 20, 64L << 20, HostBackendConfig.DEFAULT_SHM_DIR,
                Duration.ofSeconds(30)));
        first = TcpMeshGroup.listen("ns/u/g1", "127.0.0.1", "127.0.0.1");
        second = TcpMeshGroup.listen("ns/u/g1", "127.0.0.1", "127.0.0.1");
    }

    @AfterEach
    void tearDown() {
        first.close();
        second.close();
        backend.close();
    }

    @Test
    void everyRankReceivesTheRootsBytes() throws Exception {
        List<String> endpoints = List.of(first.joinInfo(), first.joinInfo(), second.joinInfo());
        CompletableFuture<Map<Integer, Collective>> a = CompletableFuture.supplyAsync(() -> connect(first, endpoints, List.of(0, 1)));
        Map<Integer, Collective> b = connect(second, endpoints, List.of(2));
        Map<Integer, Collective> all = new java.util.HashMap<>(a.get(20, TimeUnit.SECONDS));
        all.putAll(b);
        assertEquals(3, all.get(2).size());

        List<Gpu> gpus = backend.gpus();
        List<SharedRegion> regions = new ArrayList<>();
        byte[] expected = new byte[BYTES];
        new Random(7).nextBytes(expected);
        for (Gpu gpu : gpus) {
            regions.add(gpu.allocateShared(BYTES + 4096));
        }
        NativeMemory.view(regions.get(1).address() + 4096, BYTES).put(expected);
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        for (int rank = 0; rank < 3; rank++) {
            int r = rank;
            calls.add(CompletableFuture.runAsync(() -> {
                try (CopyStream stream = gpus.get(r).newStream("publish")) {
                    all.get(r).broadcast(regions.get(r), 4096, BYTES, 1, stream);
                }
            }));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        for (int rank = 0; rank < 3; rank++) {
            byte[] got = new byte[BYTES];
            NativeMemory.view(regions.get(rank).address() + 4096, BYTES).get(got);
            assertArrayEquals(expected, got, "rank " + rank);
        }
        regions.forEach(SharedRegion::close);
    }

    @Test
    void closingTheGroupBreaksAPendingReceiveNamingTheRoot() throws Exception {
        List<String> endpoints = List.of(first.joinInfo(), second.joinInfo());
        CompletableFuture<Map<Integer, Collective>> a = CompletableFuture.supplyAsync(() -> connect(first, endpoints, List.of(0)));
        Map<Integer, Collective> b = connect(second, endpoints, List.of(1));
        a.get(20, TimeUnit.SECONDS);
        Gpu gpu = backend.gpus().get(0);
        try (SharedRegion region = gpu.allocateShared(1 << 20); CopyStream stream = gpu.newStream("publish")) {
            CompletableFuture<Void> receive = CompletableFuture.runAsync(() -> b.get(1).broadcast(region, 0, 1 << 20, 0, stream));
            first.close();
            Exception e = assertThrows(Exception.class, () -> receive.get(20, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof UncheckedIOException, e.toString());
            assertTrue(e.getCause().getMessage().contains("from rank 0 failed on rank 1"), e.getCause().getMessage());
        }
    }

    private static Map<Integer, Collective> connect(TcpMeshGroup group, List<String> endpoints, List<Integer> ranks) {
        try {
            return group.connect(endpoints, ranks, TIMEOUT);
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
