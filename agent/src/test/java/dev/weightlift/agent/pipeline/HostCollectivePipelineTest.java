package dev.weightlift.agent.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
import dev.weightlift.agent.engine.nativeprotocol.ChannelServerConfig;
import dev.weightlift.agent.engine.nativeprotocol.EngineChannelServer;
import dev.weightlift.agent.engine.nativeprotocol.NativeConnector;
import dev.weightlift.agent.engine.trigger.VllmNativeTrigger;
import dev.weightlift.agent.store.HostStore;
import dev.weightlift.agent.transport.host.TcpCollective;
import dev.weightlift.agent.transport.host.TransferOptions;
import dev.weightlift.agent.transport.host.TransferServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-GPU pipeline with the host backend's TCP collective: each GPU is a rank, each bucket is owned
 * by one rank (its copy ranges exist only there), and the other rank gets it through the broadcast.
 */
class HostCollectivePipelineTest {

    private static final long SLOT = 16 << 10;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void bucketsOwnedByEitherRankReachBothWorkersThroughTheCollective() throws Exception {
        Path shm = Files.createDirectories(dir.resolve("shm"));
        try (HostBackend backend = new HostBackend(new HostBackendConfig("node-a", 2, 64L << 20, 64L << 20, shm,
                        Duration.ofSeconds(30)));
                EngineChannelServer server = EngineChannelServer.start(ChannelServerConfig.unixSocket(dir.resolve("sockets")));
                NodePipeline nodePipeline = new NodePipeline(new PipelineMetrics(new SimpleMeterRegistry()));
                TransferServer transfers = TransferServer.start(new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(10));
                TestEngine engine = TestEngine.start(backend.gpus().stream().map(Gpu::uuid).toList(), dir,
                        "--vocab", "128", "--hidden", "32", "--layers", "4")) {
            List<InetSocketAddress> peers = List.of(transfers.address(), transfers.address());
            try (HostStore store = new HostStore(backend.hostAllocator());
                    GeneratedCheckpoint checkpoint = GeneratedCheckpoint.generate(engine.rpc("describe_parameters").get(0),
                            store, Files.createDirectories(dir.resolve("checkpoints")), "c5", 5);
                    TcpCollective rank0 = TcpCollective.open(transfers, "wu/v1", 0, peers, TransferOptions.DEFAULT);
                    TcpCollective rank1 = TcpCollective.open(transfers, "wu/v1", 1, peers, TransferOptions.DEFAULT)) {
                List<PipelineBucket> all = checkpoint.buckets(SLOT, true);
                List<InstanceUpdate.GpuPart> parts = List.of(
                        new InstanceUpdate.GpuPart(backend.gpus().get(0), rank0, ownedBy(all, 0)),
                        new InstanceUpdate.GpuPart(backend.gpus().get(1), rank1, ownedBy(all, 1)));
                PipelineOptions options = PipelineOptions.defaults(SLOT)
                        .withTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(20), Duration.ofSeconds(20));
                List<PipelineResult> results = new InstanceUpdate(new NativeConnector(server), nodePipeline).run("default/wu/v1", "v1",
                        VllmNativeTrigger.at("127.0.0.1", engine.port()), parts, options, TIMEOUT);
                assertEquals(2, results.size());
                JsonNode workers = engine.rpc("weight_checksums");
                assertEquals(2, workers.size());
                for (JsonNode worker : workers) {
                    assertEquals("v1", worker.path("version").asText());
                    for (Map.Entry<String, String> tensor : checkpoint.sha256().entrySet()) {
                        assertEquals(tensor.getValue(), worker.path("parameters").path(tensor.getKey()).asText(),
                                "parameter " + tensor.getKey() + " of worker " + worker.path("gpu_uuid").asText());
                    }
                }
            }
        }
    }

    /** The buckets as {@code rank} sees them: bucket i belongs to rank i % 2 and only its owner has the bytes. */
    private static List<PipelineBucket> ownedBy(List<PipelineBucket> buckets, int rank) {
        List<PipelineBucket> view = new ArrayList<>();
        for (PipelineBucket b : buckets) {
            int root = b.index() % 2;
            view.add(new PipelineBucket(b.index(), root, b.bytes(), root == rank ? b.ranges() : List.of(), b.tensors(), b.crc32()));
        }
        return view;
    }
}
