package dev.weightlift.agent.engine.nativeprotocol;

import static dev.weightlift.agent.engine.nativeprotocol.FrameCodecTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.engine.EngineException;
import dev.weightlift.agent.engine.TensorEntry;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server and channel over a real Unix socket, with a hand-driven worker that can misbehave. */
class EngineChannelServerTest {

    private static final Duration SHORT = Duration.ofSeconds(5);
    private static final String GPU = "GPU-11111111-2222-3333-4444-555555555555";

    @TempDir
    Path dir;

    private EngineChannelServer server;

    @BeforeEach
    void start() throws IOException {
        server = EngineChannelServer.start(ChannelServerConfig.unixSocket(dir).withSocketMode("0600")
                .withHelloTimeout(Duration.ofMillis(500)));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** A worker written by hand: raw frames over the socket. */
    private final class Worker implements AutoCloseable {
        final FrameConnection connection;

        Worker() throws IOException {
            SocketChannel socket = SocketChannel.open(StandardProtocolFamily.UNIX);
            socket.connect(UnixDomainSocketAddress.of(dir.resolve(ChannelServerConfig.SOCKET_FILE)));
            connection = new FrameConnection(socket, new FrameCodec(FrameCodec.DEFAULT_MAX_JSON_BYTES), "agent");
        }

        Frame hello(String update, String gpu, int protocol) throws IOException {
            send(new Frame(Messages.message("hello").put("protocol", protocol).put("gpu_uuid", gpu).put("pid", 4242)
                    .put("engine", "test").put("update", update)));
            return receive();
        }

        void send(Frame frame) throws IOException {
            connection.write(frame, Instant.now().plus(SHORT));
        }

        Frame receive() throws IOException {
            return connection.read(Instant.now().plus(SHORT));
        }

        @Override
        public void close() {
            connection.close();
        }
    }

    @Test
    void socketFileGetsTheConfiguredMode() throws IOException {
        Path socket = dir.resolve(ChannelServerConfig.SOCKET_FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals("unix://" + socket, server.endpoint());
    }

    @Test
    void socketFileGetsTheConfiguredGroupAndAnUnknownGroupIsNamed() throws IOException {
        Path probe = Files.createFile(dir.resolve("probe"));
        String ownGroup = Files.readAttributes(probe, java.nio.file.attribute.PosixFileAttributes.class).group().getName();
        Path other = dir.resolve("other");
        try (EngineChannelServer grouped = EngineChannelServer.start(ChannelServerConfig.unixSocket(other)
                .withSocketGroup(ownGroup))) {
            Path socket = other.resolve(ChannelServerConfig.SOCKET_FILE);
            assertEquals(ownGroup, Files.readAttributes(socket, java.nio.file.attribute.PosixFileAttributes.class)
                    .group().getName());
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        }
        IOException e = assertThrows(IOException.class, () -> EngineChannelServer.start(
                ChannelServerConfig.unixSocket(dir.resolve("third")).withSocketGroup("no-such-group-weightlift")));
        assertMessage(e, "cannot listen on", "third");
    }

    @Test
    void tcpEndpointWorksToo() throws Exception {
        ChannelServerConfig tcp = new ChannelServerConfig("tcp://127.0.0.1:0", "0660", null, FrameCodec.DEFAULT_MAX_JSON_BYTES,
                SHORT);
        try (EngineChannelServer tcpServer = EngineChannelServer.start(tcp);
                NativeWorkerChannel channel = tcpServer.expect("u1", GPU, ChannelTimeouts.defaults())) {
            java.net.URI uri = java.net.URI.create(tcpServer.endpoint());
            SocketChannel socket = SocketChannel.open(new java.net.InetSocketAddress(uri.getHost(), uri.getPort()));
            try (FrameConnection worker = new FrameConnection(socket, new FrameCodec(1 << 20), "agent")) {
                worker.write(new Frame(Messages.message("hello").put("protocol", 1).put("gpu_uuid", GPU).put("pid", 1)
                        .put("update", "u1")), Instant.now().plus(SHORT));
                assertEquals("welcome", worker.read(Instant.now().plus(SHORT)).type());
                channel.awaitConnected(SHORT);
            }
        }
    }

    @Test
    void fullSequenceInLockStep() throws Exception {
        try (NativeWorkerChannel channel = server.expect("u1", GPU, ChannelTimeouts.defaults());
                Worker worker = new Worker()) {
            assertEquals("welcome", worker.hello("u1", GPU, 1).type());
            channel.awaitConnected(SHORT);
            assertEquals(4242, channel.hello().pid());

            CompletableFuture<Void> agent = CompletableFuture.runAsync(() -> {
                try {
                    channel.shareBuffer(ShareHandle.shmFile(GPU, 1024, "/dev/shm/x"), SHORT);
                    channel.sendBucket(List.of(new TensorEntry("a", "F32", new long[] {2}, 0, 8)));
                    channel.awaitAck(SHORT);
                    channel.release(SHORT);
                    channel.finish("v1", SHORT);
                } catch (EngineException e) {
                    throw new IllegalStateException(e);
                }
            });
            Frame share = worker.receive();
            assertEquals("shm", share.json().path("handle").path("kind").asText());
            worker.send(new Frame(Messages.message("ack")));
            Frame bucket = worker.receive();
            assertEquals(0, bucket.json().path("id").asInt());
            worker.send(new Frame(Messages.message("ack").put("id", 0)));
            assertEquals("release", worker.receive().type());
            worker.send(new Frame(Messages.message("ack")));
            assertEquals("v1", worker.receive().json().path("version").asText());
            worker.send(new Frame(Messages.message("done").put("version", "v1")));
            agent.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void bucketsInFlightAreAcknowledgedInOrderAndAnAbortSkipsTheirAcks() throws Exception {
        try (NativeWorkerChannel channel = server.expect("u1", GPU, ChannelTimeouts.defaults());
                Worker worker = new Worker()) {
            worker.send(new Frame(Messages.message("hello").put("protocol", 1).put("gpu_uuid", GPU).put("pid", 1)
                    .put("update", "u1").set("features", Messages.message("x").arrayNode().add("host-buffers"))));
            assertEquals("welcome", worker.receive().type());
            channel.awaitConnected(SHORT);
            assertTrue(channel.readsHostBuffers());
            for (int i = 0; i < 3; i++) {
                channel.sendBucket(List.of(new TensorEntry("t" + i, "F32", new long[] {2}, 0, 8, 0)));
            }
            for (int i = 0; i < 3; i++) {
                assertEquals(i, worker.receive().json().path("id").asInt());
            }
            worker.send(new Frame(Messages.message("ack").put("id", 0)));
            worker.send(new Frame(Messages.message("ack").put("id", 1)));
            channel.awaitAck(SHORT);
            channel.awaitAck(SHORT);
            channel.sendBucket(List.of());
            worker.receive();
            CompletableFuture<Boolean> aborted = CompletableFuture.supplyAsync(() -> channel.abort("another GPU failed"));
            assertEquals("abort", worker.receive().type());
            worker.send(new Frame(Messages.message("ack").put("id", 2)));
            worker.send(new Frame(Messages.message("ack").put("id", 3)));
            worker.send(new Frame(Messages.message("ack")));
            assertTrue(aborted.get(10, TimeUnit.SECONDS), "the abort's own ack, after the buckets' acks, confirms it");
        }
    }

    @Test
    void aWorkerThatFailsWithBucketsInFlightIsReportedByItsErrorNotByTheBrokenPipe() throws Exception {
        try (NativeWorkerChannel channel = server.expect("u1", GPU, ChannelTimeouts.defaults());
                Worker worker = new Worker()) {
            worker.hello("u1", GPU, 1);
            channel.awaitConnected(SHORT);
            channel.sendBucket(List.of());
            worker.receive();
            worker.send(Messages.error("ValueError: bucket 0: checksum mismatch"));
            worker.close();
            for (int i = 0; i < 50; i++) {
                channel.sendBucket(List.of(new TensorEntry("t", "F32", new long[] {1 << 16}, 0, 1 << 18, 0)));
            }
            assertMessage(assertThrows(EngineException.class, () -> channel.awaitAck(SHORT)),
                    "loading bucket 0", "answered: ValueError: bucket 0: checksum mismatch");
        }
    }

    @Test
    void anAckOfAnotherBucketThanTheOldestInFlightIsABrokenProtocol() throws Exception {
        try (NativeWorkerChannel channel = server.expect("u1", GPU, ChannelTimeouts.defaults());
                Worker worker = new Worker()) {
            worker.hello("u1", GPU, 1);
            channel.awaitConnected(SHORT);
            channel.sendBucket(List.of());
            channel.sendBucket(List.of());
            worker.receive();
            worker.receive();
            worker.send(new Frame(Messages.message("ack").put("id", 1)));
            assertMessage(assertThrows(EngineException.class, () -> channel.awaitAck(SHORT)),
                    "loading bucket 0", "acknowledged bucket 1 instead of bucket 0");
        }
    }

    @Test
    void workerErrorBecomesAnEngineExceptionWithItsText() throws Exception {
        try (NativeWorkerChannel channel = server.expect("u1", GPU, ChannelTimeouts.defaults());
                Worker worker = new Worker()) {
            worker.hello("u1", GPU, 1);
            channel.awaitConnected(SHORT);
            channel.sendBucket(List.of());
            worker.receive();
            worker.send(Messages.error("Traceback ...\nKeyError: 'model.layers.0.w'"));
            EngineException e = assertThrows(EngineException.class, () -> channel.awaitAck(SHORT));
            assertMessage(e, GPU, "loading bucket 0", "KeyError: 'model.layers.0.w'");
            assertMessage(assertThrows(EngineException.class, () -> channel.sendBucket(List.of())), "already failed");
        }
    }

    @Test
    void silentWorkerMissesTheAckDeadline() throws Exception {
        try (NativeWorkerChannel channel = server.expect("u1", GPU, ChannelTimeouts.defaults());
                Worker worker = new Worker()) {
            worker.hello("u1", GPU, 1);
            channel.awaitConnected(SHORT);
            channel.sendBucket(List.of());
            assertMessage(assertThrows(EngineException.class, () -> channel.awaitAck(Duration.ofMillis(200))),
                    "no answer before the deadline");
        }
    }

    @Test
    void aCancelledConnectFailsAtOnceWithTheReason() {
        try (NativeWorkerChannel channel = server.expect("u1", GPU, ChannelTimeouts.defaults())) {
            channel.cancelConnect("the engine's call failed: HTTP 500");
            long start = System.nanoTime();
            assertMessage(assertThrows(EngineException.class, () -> channel.awaitConnected(Duration.ofSeconds(60))),
                    "will not connect for update u1", "the engine's call failed: HTTP 500");
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos());
        }
    }

    @Test
    void workerThatNeverConnectsTimesOut() {
        try (NativeWorkerChannel channel = server.expect("u1", GPU, ChannelTimeouts.defaults())) {
            assertMessage(assertThrows(EngineException.class, () -> channel.awaitConnected(Duration.ofMillis(200))),
                    "did not connect", GPU);
        }
    }

    @Test
    void workerThatDiesIsReportedAsClosed() throws Exception {
        try (NativeWorkerChannel channel = server.expect("u1", GPU, ChannelTimeouts.defaults())) {
            Worker worker = new Worker();
            worker.hello("u1", GPU, 1);
            channel.awaitConnected(SHORT);
            channel.sendBucket(List.of());
            worker.close();
            assertMessage(assertThrows(EngineException.class, () -> channel.awaitAck(SHORT)), "closed the connection");
        }
    }

    @Test
    void unknownUpdateWrongVersionAndDuplicatesAreTurnedAway() throws Exception {
        try (NativeWorkerChannel channel = server.expect("u1", GPU, ChannelTimeouts.defaults())) {
            try (Worker stranger = new Worker()) {
                Frame reply = stranger.hello("u2", GPU, 1);
                assertEquals("error", reply.type());
                assertTrue(Messages.errorText(reply).contains("no update 'u2'"));
            }
            try (Worker future = new Worker()) {
                assertTrue(Messages.errorText(future.hello("u1", GPU, 2)).contains("protocol version 2 not supported"));
            }
            try (Worker first = new Worker(); Worker second = new Worker()) {
                assertEquals("welcome", first.hello("u1", GPU, 1).type());
                assertTrue(Messages.errorText(second.hello("u1", GPU, 1)).contains("already connected"));
            }
        }
    }

    @Test
    void malformedFramesAreAnsweredAndTheServerKeepsServing() throws Exception {
        try (Worker garbage = new Worker()) {
            SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX);
            raw.connect(UnixDomainSocketAddress.of(dir.resolve(ChannelServerConfig.SOCKET_FILE)));
            raw.write(ByteBuffer.allocate(8).putInt(0, Integer.MAX_VALUE).putInt(4, 0));
            FrameConnection reader = new FrameConnection(raw, new FrameCodec(1 << 20), "agent");
            Frame reply = reader.read(Instant.now().plus(SHORT));
            assertTrue(Messages.errorText(reply).contains("exceeds the limit"), Messages.errorText(reply));
            assertThrows(EOFException.class, () -> reader.read(Instant.now().plus(SHORT)));
            reader.close();

            garbage.connection.write(new Frame(Messages.message("bucket")), Instant.now().plus(SHORT));
            assertTrue(Messages.errorText(garbage.receive()).contains("expected a 'hello'"));
        }
        try (Worker mute = new Worker()) {
            Frame reply = mute.receive();
            assertTrue(Messages.errorText(reply).contains("deadline passed"), Messages.errorText(reply));
        }
        try (NativeWorkerChannel channel = server.expect("u1", GPU, ChannelTimeouts.defaults());
                Worker good = new Worker()) {
            assertEquals("welcome", good.hello("u1", GPU, 1).type());
            channel.awaitConnected(SHORT);
        }
    }
}
