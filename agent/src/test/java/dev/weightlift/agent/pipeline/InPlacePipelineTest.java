package dev.weightlift.agent.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
import dev.weightlift.agent.engine.nativeprotocol.ChannelServerConfig;
import dev.weightlift.agent.engine.nativeprotocol.ChannelTimeouts;
import dev.weightlift.agent.engine.nativeprotocol.EngineChannelServer;
import dev.weightlift.agent.engine.nativeprotocol.Frame;
import dev.weightlift.agent.engine.nativeprotocol.FrameCodec;
import dev.weightlift.agent.engine.nativeprotocol.FrameConnection;
import dev.weightlift.agent.engine.nativeprotocol.Messages;
import dev.weightlift.agent.engine.nativeprotocol.NativeWorkerChannel;
import dev.weightlift.agent.store.HostStore;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's side of an update read in place, against a worker played here frame by frame: what the share
 * and the buckets name, and that buckets go out ahead of their acks.
 */
class InPlacePipelineTest {

    private static final Duration SHORT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void bucketsNameTheStoreFilesAndGoOutAheadOfTheirAcks() throws Exception {
        Path shm = Files.createDirectories(dir.resolve("shm"));
        ArrayNode parameters = JsonNodeFactory.instance.arrayNode();
        for (int i = 0; i < 6; i++) {
            parameters.addObject().put("name", "w" + i).put("dtype", "F32").putArray("shape").add(1024);
        }
        try (HostBackend backend = new HostBackend(new HostBackendConfig("node-a", 1, 64L << 20, 64L << 20, shm, SHORT));
                HostStore store = new HostStore(backend.hostAllocator());
                EngineChannelServer server = EngineChannelServer.start(ChannelServerConfig.unixSocket(dir.resolve("s")));
                GeneratedCheckpoint checkpoint = GeneratedCheckpoint.generate(parameters, store, dir, "v1", 3)) {
            Gpu gpu = backend.gpus().get(0);
            List<PipelineBucket> buckets = checkpoint.buckets(4096, false);
            assertEquals(6, buckets.size());
            NativeWorkerChannel channel = server.expect("u1", gpu.uuid(), ChannelTimeouts.defaults());
            CompletableFuture<PipelineResult> agent = CompletableFuture.supplyAsync(() -> {
                try (BufferCache cache = new BufferCache(gpu)) {
                    return new GpuUpdatePipeline(gpu, null, PipelineOptions.defaults(4096), PipelineMetrics.unregistered(),
                            cache).run("u1", "v1", channel, buckets, new Cancellation());
                } catch (PipelineException e) {
                    throw new IllegalStateException(e);
                }
            });
            try (FrameConnection worker = connect(dir.resolve("s"))) {
                worker.write(new Frame(message("hello").put("protocol", 1).put("gpu_uuid", gpu.uuid())
                        .put("pid", 1).put("update", "u1").set("features",
                                JsonNodeFactory.instance.arrayNode().add(Messages.HOST_BUFFERS))), deadline());
                assertEquals("welcome", worker.read(deadline()).type());
                JsonNode share = worker.read(deadline()).json();
                assertTrue(share.path("handle").isMissingNode(), "every bucket is read in place: no shared buffer");
                String file = share.path("host_buffers").get(0).path("path").asText();
                assertTrue(Path.of(file).startsWith(shm), file);
                assertEquals(1, share.path("read_ahead").size(), "the buckets read one stretch of the file");
                worker.write(new Frame(message("ack")), deadline());

                // The agent sends GpuUpdatePipeline.IN_PLACE_WINDOW buckets before any is acknowledged.
                int received = 0;
                for (; received < GpuUpdatePipeline.IN_PLACE_WINDOW; received++) {
                    assertBucketHoldsTheCheckpoint(worker.read(deadline()).json(), received, file, checkpoint);
                }
                for (int acked = 0; acked < buckets.size(); acked++) {
                    worker.write(new Frame(message("ack").put("id", acked)), deadline());
                    if (received < buckets.size()) {
                        assertBucketHoldsTheCheckpoint(worker.read(deadline()).json(), received++, file, checkpoint);
                    }
                }
                assertEquals("release", worker.read(deadline()).type());
                worker.write(new Frame(message("ack")), deadline());
                assertEquals("finish", worker.read(deadline()).type());
                worker.write(new Frame(message("done").put("version", "v1")), deadline());
            }
            PipelineResult result = agent.get(30, TimeUnit.SECONDS);
            assertEquals(6, result.inPlaceBuckets());
            assertEquals(buckets.stream().mapToLong(PipelineBucket::bytes).sum(), result.bytes());
        }
    }

    private static void assertBucketHoldsTheCheckpoint(JsonNode bucket, int id, String file,
            GeneratedCheckpoint checkpoint) throws Exception {
        assertEquals(id, bucket.path("id").asInt());
        for (JsonNode tensor : bucket.path("tensors")) {
            assertEquals(0, tensor.path("buffer").asInt());
            byte[] bytes = new byte[tensor.path("nbytes").asInt()];
            try (RandomAccessFile raf = new RandomAccessFile(file, "r")) {
                raf.seek(tensor.path("offset").asLong());
                raf.readFully(bytes);
            }
            assertEquals(checkpoint.sha256().get(tensor.path("name").asText()),
                    HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)),
                    "bytes of " + tensor.path("name").asText() + " at its offset in the store file");
        }
    }

    private static FrameConnection connect(Path socketDir) throws IOException {
        SocketChannel socket = SocketChannel.open(StandardProtocolFamily.UNIX);
        socket.connect(UnixDomainSocketAddress.of(socketDir.resolve(ChannelServerConfig.SOCKET_FILE)));
        return new FrameConnection(socket, new FrameCodec(FrameCodec.DEFAULT_MAX_JSON_BYTES), "agent");
    }

    private static ObjectNode message(String type) {
        return JsonNodeFactory.instance.objectNode().put("type", type);
    }

    private static Instant deadline() {
        return Instant.now().plus(SHORT);
    }
}
