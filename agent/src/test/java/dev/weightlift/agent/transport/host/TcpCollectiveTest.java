package dev.weightlift.agent.transport.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.agent.device.CopyFailedException;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TcpCollectiveTest {

    private static final TransferOptions OPTIONS = new TransferOptions(64 * 1024, Duration.ofSeconds(10), Duration.ofSeconds(2));
    private static final long WAIT_SECONDS = 20;

    @TempDir
    Path shm;

    private HostBackend backend;
    private final List<TransferServer> servers = new ArrayList<>();
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void start() {
        backend = new HostBackend(new HostBackendConfig("node-a", 4, 64L << 20, 256L << 20, shm, Duration.ofSeconds(30)));
    }

    @AfterEach
    void stop() throws Exception {
        processes.forEach(Process::destroyForcibly);
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
        servers.forEach(TransferServer::close);
        backend.close();
        assertEquals(0, backend.leakedRegions(), "regions left open");
    }

    /** One rank in this JVM: its region, its stream and its collective. */
    private record Rank(TcpCollective collective, MemoryRegion region, CopyStream stream) {
    }

    private TransferServer server() {
        TransferServer server = TransferServer.start(new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(10));
        servers.add(server);
        return server;
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    /** Ranks of one update on {@code servers} (rank i on server i % servers, like agents with several GPUs). */
    private List<Rank> ranks(String updateId, List<TransferServer> on, int size, long bytes, TransferOptions options) {
        List<InetSocketAddress> peers = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            peers.add(on.get(r % on.size()).address());
        }
        List<Rank> ranks = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            MemoryRegion region = track(backend.hostAllocator().allocatePinned(bytes));
            CopyStream stream = track(backend.gpus().get(r % 4).newStream("bcast-" + updateId + "-" + r));
            TcpCollective collective = track(TcpCollective.open(on.get(r % on.size()), updateId, r, peers, options));
            ranks.add(new Rank(collective, region, stream));
        }
        return ranks;
    }

    private static void run(List<Rank> ranks, BroadcastScript script) {
        for (int r = 0; r < ranks.size(); r++) {
            script.fillOwned(ranks.get(r).region(), r);
        }
        for (BroadcastScript.Step step : script.steps()) {
            for (Rank rank : ranks) {
                rank.collective().broadcast(rank.region(), step.offset(), step.length(), step.root(), rank.stream());
            }
        }
        ranks.forEach(rank -> rank.stream().synchronize());
        for (int r = 0; r < ranks.size(); r++) {
            assertNull(script.mismatch(ranks.get(r).region(), r));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4})
    void everyRankGetsEveryByteOfEveryBroadcast(int size) {
        TransferServer a = server();
        TransferServer b = server();
        BroadcastScript script = BroadcastScript.of(size, 9, 42 + size);
        run(ranks("u-" + size, List.of(a, b), size, script.regionBytes(), OPTIONS), script);
    }

    @Test
    void aBroadcastComesAfterTheCopiesEnqueuedBeforeItOnTheStream() {
        TransferServer server = server();
        BroadcastScript script = BroadcastScript.of(3, 1, 7);
        List<Rank> ranks = ranks("ordered", List.of(server), 3, script.regionBytes(), OPTIONS);
        BroadcastScript.Step step = script.steps().get(0);
        MemoryRegion staging = track(backend.hostAllocator().allocatePinned(script.regionBytes()));
        script.fill(staging, 0);
        Rank root = ranks.get(0);
        root.stream().copy(staging, step.offset(), root.region(), step.offset(), step.length());
        for (Rank rank : ranks) {
            rank.collective().broadcast(rank.region(), step.offset(), step.length(), 0, rank.stream());
        }
        ranks.forEach(rank -> rank.stream().synchronize());
        for (int r = 0; r < 3; r++) {
            assertNull(script.mismatch(ranks.get(r).region(), r));
        }
    }

    @Test
    void concurrentUpdatesOnTheSameServersStayApart() throws Exception {
        TransferServer a = server();
        TransferServer b = server();
        BroadcastScript first = BroadcastScript.of(4, 6, 1);
        BroadcastScript second = BroadcastScript.of(4, 6, 2);
        List<Rank> one = ranks("update-1", List.of(a, b), 4, first.regionBytes(), OPTIONS);
        List<Rank> two = ranks("update-2", List.of(b, a), 4, second.regionBytes(), OPTIONS);
        Thread other = new Thread(() -> run(two, second));
        other.start();
        run(one, first);
        other.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        for (int r = 0; r < 4; r++) {
            assertNull(second.mismatch(two.get(r).region(), r));
        }
    }

    @Test
    void ranksInSeparateProcessesGetEveryByte() throws Exception {
        int size = 3;
        BroadcastScript script = BroadcastScript.of(size, 8, 99);
        List<Child> children = List.of(child("procs", 1, size, 8, 99, "run"), child("procs", 2, size, 8, 99, "run"));
        TransferServer server = server();
        List<InetSocketAddress> peers = List.of(server.address(), children.get(0).address(), children.get(1).address());
        children.forEach(child -> child.send(peers));
        MemoryRegion region = track(backend.hostAllocator().allocatePinned(script.regionBytes()));
        CopyStream stream = track(backend.gpus().get(0).newStream("bcast"));
        TcpCollective collective = track(TcpCollective.open(server, "procs", 0, peers, OPTIONS));
        script.fillOwned(region, 0);
        for (BroadcastScript.Step step : script.steps()) {
            collective.broadcast(region, step.offset(), step.length(), step.root(), stream);
        }
        stream.synchronize();
        assertNull(script.mismatch(region, 0));
        long owned = 0;
        long others = 0;
        for (BroadcastScript.Step step : script.steps()) {
            owned += step.root() == 0 ? step.length() : 0;
            others += step.root() == 0 ? 0 : step.length();
        }
        assertEquals(others, collective.bytesReceived(), "rank 0 receives every broadcast it does not own");
        long forwarded = 0;
        for (BroadcastScript.Step step : script.steps()) {
            forwarded += step.root() == 2 ? step.length() : 0;
        }
        assertEquals(owned + forwarded, collective.bytesSent(),
                "rank 0 sends its own and forwards rank 2's to rank 1 (it is the tail of rank 1's chain)");
        for (Child child : children) {
            assertEquals("opened", child.line());
            assertEquals("ok", child.line());
            assertTrue(child.process().waitFor(WAIT_SECONDS, TimeUnit.SECONDS));
            assertEquals(0, child.process().exitValue());
        }
    }

    @Test
    void aPeerThatDiesFailsEveryRankQuicklyNamingIt() throws Exception {
        int size = 4;
        Child dying = child("dies", 2, size, 1, 5, "stall");
        TransferServer a = server();
        TransferServer b = server();
        List<InetSocketAddress> peers = List.of(a.address(), b.address(), dying.address(), b.address());
        dying.send(peers);
        long bytes = 32L << 20;
        List<Rank> ranks = new ArrayList<>();
        for (int r : new int[] {0, 1, 3}) {
            MemoryRegion region = track(backend.hostAllocator().allocatePinned(bytes));
            CopyStream stream = track(backend.gpus().get(r).newStream("bcast-" + r));
            TcpCollective collective = track(TcpCollective.open(r == 0 ? a : b, "dies", r, peers, OPTIONS));
            collective.broadcast(region, 0, bytes, 0, stream);
            ranks.add(new Rank(collective, region, stream));
        }
        assertEquals("opened", dying.line());
        dying.process().destroyForcibly();
        long start = System.nanoTime();
        String name = "rank 2 (127.0.0.1:" + dying.address().getPort() + ")";
        for (Rank rank : ranks) {
            String message;
            try {
                rank.stream().synchronize();
                // the root's broadcast may be complete (rank 1 took every byte) before rank 2 died: its collective fails
                assertTrue(awaitFailure(rank.collective()), "rank " + rank.collective().rank() + " heard of the failure");
                message = rank.collective().failure();
            } catch (CopyFailedException e) {
                message = e.getMessage();
            }
            assertTrue(message.contains(name), message);
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(millis < 3_000, "failing took " + millis + " ms, the deadline is " + OPTIONS.timeout());
        Rank root = ranks.get(0);
        root.collective().broadcast(root.region(), 0, 4096, 0, root.stream());
        CopyFailedException again = assertThrows(CopyFailedException.class, () -> root.stream().synchronize());
        assertTrue(again.getMessage().contains(name), again.getMessage());
    }

    @Test
    void aRootThatNeverSendsFailsEveryRankAtTheDeadline() {
        TransferServer server = server();
        TransferOptions fast = OPTIONS.withTimeout(Duration.ofMillis(500));
        List<Rank> ranks = ranks("late", List.of(server), 3, 4096, fast);
        long start = System.nanoTime();
        for (Rank rank : ranks.subList(1, 3)) {
            rank.collective().broadcast(rank.region(), 0, 4096, 0, rank.stream());
        }
        for (Rank rank : ranks.subList(1, 3)) {
            CopyFailedException failed = assertThrows(CopyFailedException.class, () -> rank.stream().synchronize());
            assertTrue(failed.getMessage().contains("did not complete within 500 ms"), failed.getMessage());
            assertTrue(failed.getMessage().matches(".*waiting for rank [01] \\(127\\.0\\.0\\.1:" + server.address().getPort()
                    + "\\) to start broadcast #0.*"), failed.getMessage());
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(millis < 3_000, "failing took " + millis + " ms");
        TcpCollective root = ranks.get(0).collective();
        assertTrue(awaitFailure(root), "the root heard of the failure");
        Rank rootRank = ranks.get(0);
        root.broadcast(rootRank.region(), 0, 4096, 0, rootRank.stream());
        assertThrows(CopyFailedException.class, () -> rootRank.stream().synchronize());
    }

    @Test
    void ranksThatDisagreeOnABroadcastFailWithTheReason() {
        TransferServer server = server();
        List<Rank> ranks = ranks("disagree", List.of(server), 2, 8192, OPTIONS);
        ranks.get(0).collective().broadcast(ranks.get(0).region(), 0, 8192, 0, ranks.get(0).stream());
        ranks.get(1).collective().broadcast(ranks.get(1).region(), 0, 4096, 0, ranks.get(1).stream());
        CopyFailedException failed = assertThrows(CopyFailedException.class, () -> ranks.get(1).stream().synchronize());
        assertTrue(failed.getMessage().contains("the ranks disagree"), failed.getMessage());
    }

    @Test
    void closeStopsThreadsAndTheUpdateIdCanBeUsedAgain() {
        TransferServer server = server();
        BroadcastScript script = BroadcastScript.of(3, 3, 11);
        List<Rank> ranks = ranks("again", List.of(server), 3, script.regionBytes(), OPTIONS);
        run(ranks, script);
        ranks.forEach(rank -> rank.collective().close());
        for (Rank rank : ranks) {
            assertEquals(0, rank.collective().liveThreads());
            assertNull(rank.collective().failure(), "a normal close is not a failure");
        }
        run(ranks("again", List.of(server), 3, script.regionBytes(), OPTIONS), script);
    }

    @Test
    void aSingleRankHasNothingToSend() {
        TransferServer server = server();
        List<Rank> ranks = ranks("alone", List.of(server), 1, 4096, OPTIONS);
        Rank rank = ranks.get(0);
        rank.collective().broadcast(rank.region(), 0, 4096, 0, rank.stream());
        rank.stream().synchronize();
        assertThrows(IllegalArgumentException.class,
                () -> rank.collective().broadcast(rank.region(), 0, 4096, 1, rank.stream()));
        assertThrows(IndexOutOfBoundsException.class,
                () -> rank.collective().broadcast(rank.region(), 1, 4096, 0, rank.stream()));
    }

    private static boolean awaitFailure(TcpCollective collective) {
        try {
            return collective.awaitFailure(Duration.ofSeconds(5)) != null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private record Child(Process process, BufferedReader out, Writer in, InetSocketAddress address) {

        void send(List<InetSocketAddress> peers) {
            try {
                in.write(peers.stream().map(p -> p.getHostString() + ":" + p.getPort()).collect(Collectors.joining(",")) + "\n");
                in.flush();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The next line the child meant for the test (log lines skipped), without its {@code @}. */
        String line() throws IOException {
            return protocolLine(out);
        }
    }

    private static String protocolLine(BufferedReader out) throws IOException {
        String line;
        do {
            line = out.readLine();
        } while (line != null && !line.startsWith("@"));
        return line == null ? null : line.substring(1);
    }

    private Child child(String updateId, int rank, int size, int count, long seed, String mode) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                RankProcess.class.getName(), updateId, Integer.toString(rank), Integer.toString(size), Integer.toString(count),
                Long.toString(seed), mode)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        processes.add(process);
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String first = protocolLine(out);
        if (first == null || !first.startsWith("port ")) {
            throw new IllegalStateException("rank process said " + first);
        }
        return new Child(process, out, new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8),
                new InetSocketAddress("127.0.0.1", Integer.parseInt(first.substring(5).trim())));
    }
}
