package dev.weightlift.agent.engine.checkpointengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.engine.EngineException;
import dev.weightlift.agent.engine.TensorEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/** The Java channel against a pyzmq REP worker running checkpoint-engine v0.4's receive loop. */
class CheckpointEngineChannelTest {

    private static final String GPU = "GPU-5d1e4c6f-0000-4000-8000-000000000001";
    private static final Duration STEP = Duration.ofSeconds(20);
    private static final byte[] IPC_HANDLE = HexFormat.of().parseHex("0a".repeat(64));
    private static final ShareHandle HANDLE = ShareHandle.cudaIpc(GPU, 64L << 20, IPC_HANDLE);

    @TempDir
    Path dir;

    private final ZContext context = new ZContext();
    private final List<Process> workers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        workers.forEach(Process::destroyForcibly);
        context.close();
    }

    @Test
    void theWholeSequenceReachesTheWorker() throws Exception {
        try (CheckpointEngineChannel channel = CheckpointEngineChannel.bind(context, "127.0.0.1", GPU, 3)) {
            Process worker = worker(channel, 1);
            channel.awaitConnected(STEP);
            channel.shareBuffer(HANDLE, STEP);
            for (int b = 0; b < 3; b++) {
                channel.sendBucket(bucket(b));
                channel.awaitAck(STEP);
            }
            channel.release(STEP);
            channel.finish(STEP);
            assertEquals(0, Python.await(worker, STEP), Python.read(dir.resolve("worker.out")));
        }
        List<JsonNode> events = events();
        assertEquals(List.of("shared", "bucket", "bucket", "bucket", "released", "post_hook"),
                events.stream().map(e -> e.get("kind").asText()).toList());
        JsonNode shared = events.get(0);
        assertEquals(64L << 20, shared.get("size").asLong());
        assertEquals(1, shared.get("device").asInt(), "the worker puts its own device index at args[6]");
        assertEquals(HexFormat.of().formatHex(IPC_HANDLE), shared.get("handle").asText());
        JsonNode second = events.get(2).get("tensors");
        assertEquals("[\"layer.1.q\",\"torch.bfloat16\",[1024,8],32768]", second.get(0).toString());
        assertEquals("[\"layer.1.k\",\"torch.float8_e4m3fn\",[],49152]", second.get(1).toString());
    }

    @Test
    void anErrorReplyBecomesAnExceptionNamingTheWorkerAndAbortMakesTheWorkerRaise() throws Exception {
        try (CheckpointEngineChannel channel = CheckpointEngineChannel.bind(context, "127.0.0.1", GPU, 0)) {
            Process worker = worker(channel, 0, "--fail-bucket", "1");
            channel.awaitConnected(STEP);
            channel.shareBuffer(HANDLE, STEP);
            channel.sendBucket(bucket(0));
            channel.awaitAck(STEP);
            channel.sendBucket(bucket(1));
            EngineException e = assertThrows(EngineException.class, () -> channel.awaitAck(STEP));
            assertTrue(e.getMessage().startsWith("checkpoint-engine worker " + GPU), e.getMessage());
            assertTrue(e.getMessage().contains("failed bucket 1: ValueError: cannot load layer.1.q: shape mismatch"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("Traceback (most recent call last)"), e.getMessage());

            assertFalse(channel.abort("worker " + GPU + " failed bucket 1"), "the protocol never confirms an abort");
            assertNotEquals(0, Python.await(worker, STEP));
        }
        assertTrue(Python.read(dir.resolve("worker.out"))
                .contains("RuntimeError: weightlift aborted the update: worker " + GPU + " failed bucket 1"));
        assertEquals("raised", events().get(events().size() - 1).get("kind").asText());
    }

    @Test
    void aWorkerThatCannotOpenTheBufferFailsTheShareAndIsReleasedFromItsWait() throws Exception {
        try (CheckpointEngineChannel channel = CheckpointEngineChannel.bind(context, "127.0.0.1", GPU, 0)) {
            Process worker = worker(channel, 0, "--fail-open");
            channel.awaitConnected(STEP);
            EngineException e = assertThrows(EngineException.class, () -> channel.shareBuffer(HANDLE, STEP));
            assertTrue(e.getMessage().contains("failed sharing the buffer: RuntimeError: cudaIpcOpenMemHandle failed"),
                    e.getMessage());
            assertNotEquals(0, Python.await(worker, STEP), "the worker raises instead of waiting forever");
        }
        assertEquals("open_failed", events().get(0).get("kind").asText());
    }

    @Test
    void aCancelledConnectFailsAtOnceWithTheReason() throws Exception {
        try (CheckpointEngineChannel channel = CheckpointEngineChannel.bind(context, "127.0.0.1", GPU, 0)) {
            CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
                try {
                    channel.awaitConnected(Duration.ofSeconds(60));
                } catch (EngineException e) {
                    throw new CompletionException(e);
                }
            });
            channel.cancelConnect("the engine's call failed: HTTP 400");
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> waiting.get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("will not connect to " + channel.address()
                    + ": the engine's call failed: HTTP 400"), e.getCause().getMessage());
        }
    }

    @Test
    void noWorkerConnectingFailsWithinTheDeadline() {
        try (CheckpointEngineChannel channel = CheckpointEngineChannel.bind(context, "127.0.0.1", GPU, 0)) {
            EngineException e = assertThrows(EngineException.class,
                    () -> channel.awaitConnected(Duration.ofMillis(300)));
            assertTrue(e.getMessage().contains("did not connect to " + channel.address() + " within 300 ms"),
                    e.getMessage());
        }
    }

    @Test
    void aSecondPeerIsRefusedRatherThanServedInTurn() throws Exception {
        try (CheckpointEngineChannel channel = CheckpointEngineChannel.bind(context, "127.0.0.1", GPU, 0);
                ZMQ.Socket first = context.createSocket(SocketType.REP);
                ZMQ.Socket second = context.createSocket(SocketType.REP)) {
            first.connect(channel.address());
            channel.awaitConnected(STEP);
            second.connect(channel.address());
            EngineException e = assertThrows(EngineException.class, () -> channel.shareBuffer(HANDLE, STEP));
            assertTrue(e.getMessage().contains("2 peers are connected"), e.getMessage());
        }
    }

    @Test
    void aWorkerThatVanishesFailsTheWaitAtOnceNotAtTheDeadline() throws Exception {
        try (CheckpointEngineChannel channel = CheckpointEngineChannel.bind(context, "127.0.0.1", GPU, 0)) {
            Thread fake = new Thread(() -> {
                ZMQ.Socket rep = context.createSocket(SocketType.REP);
                rep.setLinger(0);
                rep.connect(channel.address());
                rep.recv();
                rep.send(new byte[0]);
                rep.recv();
                context.destroySocket(rep);
            });
            fake.start();
            channel.awaitConnected(STEP);
            channel.shareBuffer(HANDLE, STEP);
            channel.sendBucket(bucket(0));
            long start = System.nanoTime();
            EngineException e = assertThrows(EngineException.class, () -> channel.awaitAck(Duration.ofSeconds(30)));
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10, "took the whole deadline");
            assertTrue(e.getMessage().contains("disconnected from " + channel.address() + " during bucket 0"),
                    e.getMessage());
            fake.join(STEP.toMillis());
        }
    }

    @Test
    void abortStillReachesAWorkerThatMissedTheAckDeadline() throws Exception {
        try (CheckpointEngineChannel channel = CheckpointEngineChannel.bind(context, "127.0.0.1", GPU, 0)) {
            CompletableFuture<byte[]> afterSlowBucket = new CompletableFuture<>();
            Thread slowWorker = new Thread(() -> {
                ZMQ.Socket rep = context.createSocket(SocketType.REP);
                rep.setLinger(0);
                rep.connect(channel.address());
                rep.recv();
                rep.send(new byte[0]);
                rep.recv();
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                rep.send(new byte[0]);
                rep.setReceiveTimeOut((int) STEP.toMillis());
                afterSlowBucket.complete(rep.recv());
                context.destroySocket(rep);
            });
            slowWorker.start();
            channel.awaitConnected(STEP);
            channel.shareBuffer(HANDLE, STEP);
            channel.sendBucket(bucket(0));
            EngineException e = assertThrows(EngineException.class, () -> channel.awaitAck(Duration.ofMillis(200)));
            assertTrue(e.getMessage().contains("did not answer bucket 0 within 200 ms"), e.getMessage());

            channel.abort("ack deadline passed");
            assertEquals(HexFormat.of().formatHex(
                    CheckpointEngineMessages.runtimeError("weightlift aborted the update: ack deadline passed")),
                    HexFormat.of().formatHex(afterSlowBucket.get(STEP.toMillis(), TimeUnit.MILLISECONDS)));
            slowWorker.join(STEP.toMillis());
        }
    }

    private Process worker(CheckpointEngineChannel channel, int deviceId, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(channel.address(), Integer.toString(deviceId),
                dir.resolve("events.jsonl").toString()));
        args.addAll(List.of(extra));
        Process p = Python.start(true, dir.resolve("worker.out"), "ce_worker.py", args.toArray(String[]::new));
        workers.add(p);
        return p;
    }

    private List<JsonNode> events() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> events = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("events.jsonl"))) {
            events.add(json.readTree(line));
        }
        return events;
    }

    private static List<TensorEntry> bucket(int index) {
        long slot = (index % 2) * (32L << 10);
        return List.of(
                new TensorEntry("layer." + index + ".q", "BF16", new long[] {1024, 8}, slot, 16384),
                new TensorEntry("layer." + index + ".k", "F8_E4M3", new long[] {}, slot + 16384, 1));
    }
}
