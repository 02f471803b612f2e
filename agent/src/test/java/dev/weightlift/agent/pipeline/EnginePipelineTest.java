package dev.weightlift.agent.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
import dev.weightlift.agent.engine.nativeprotocol.ChannelServerConfig;
import dev.weightlift.agent.engine.nativeprotocol.EngineChannelServer;
import dev.weightlift.agent.engine.nativeprotocol.NativeConnector;
import dev.weightlift.agent.engine.trigger.VllmNativeTrigger;
import dev.weightlift.agent.store.HostStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent side (host backend, channel server, trigger, node pipeline) against a real engine process
 * (our Python package, a torch model on the CPU, a vLLM-style HTTP server): every parameter is checked
 * against the generated checkpoint, and the engine's failures end the update with its message.
 */
class EnginePipelineTest {

    private static final long SLOT = 16 << 10;
    private static final String[] MODEL = {"--vocab", "128", "--hidden", "32", "--layers", "4"};
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private HostBackend backend;
    private HostStore store;
    private EngineChannelServer server;
    private NodePipeline nodePipeline;
    private SimpleMeterRegistry registry;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        Path shm = Files.createDirectories(dir.resolve("shm"));
        backend = new HostBackend(new HostBackendConfig("node-a", 2, 64L << 20, 64L << 20, shm, Duration.ofSeconds(30)));
        server = EngineChannelServer.start(ChannelServerConfig.unixSocket(dir.resolve("sockets")));
        store = new HostStore(backend.hostAllocator());
        registry = new SimpleMeterRegistry();
        nodePipeline = new NodePipeline(new PipelineMetrics(registry));
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        nodePipeline.close();
        server.close();
        store.close();
        backend.close();
        assertEquals(0, backend.leakedRegions(), "regions left open");
        try (Stream<Path> files = Files.list(dir.resolve("shm"))) {
            assertEquals(List.of(), files.toList(), "shared-memory files left behind");
        }
    }

    private List<String> uuids() {
        return backend.gpus().stream().map(Gpu::uuid).toList();
    }

    private TestEngine engine(String... flags) throws IOException {
        String[] all = Stream.concat(Stream.of(MODEL), Stream.of(flags)).toArray(String[]::new);
        TestEngine engine = TestEngine.start(uuids(), dir, all);
        closeables.add(engine);
        return engine;
    }

    private GeneratedCheckpoint checkpoint(TestEngine engine, long seed) throws Exception {
        GeneratedCheckpoint checkpoint = GeneratedCheckpoint.generate(engine.rpc("describe_parameters").get(0), store,
                Files.createDirectories(dir.resolve("checkpoints")), "c" + seed, seed);
        closeables.add(checkpoint);
        return checkpoint;
    }

    private List<PipelineResult> update(TestEngine engine, String version, List<PipelineBucket> buckets,
            PipelineOptions options) throws PipelineException {
        List<InstanceUpdate.GpuPart> parts = backend.gpus().stream()
                .map(gpu -> new InstanceUpdate.GpuPart(gpu, null, buckets)).toList();
        return new InstanceUpdate(new NativeConnector(server), nodePipeline).run("default/wu/" + version, version,
                VllmNativeTrigger.at("127.0.0.1", engine.port()), parts, options, TIMEOUT);
    }

    private static PipelineOptions options() {
        return PipelineOptions.defaults(SLOT).withTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(20), Duration.ofSeconds(20));
    }

    private void assertEngineHolds(TestEngine engine, GeneratedCheckpoint checkpoint, String version) throws Exception {
        JsonNode workers = engine.rpc("weight_checksums");
        assertEquals(2, workers.size());
        for (JsonNode worker : workers) {
            assertEquals(version, worker.path("version").asText());
            JsonNode parameters = worker.path("parameters");
            assertEquals(checkpoint.sha256().size(), parameters.size());
            for (Map.Entry<String, String> tensor : checkpoint.sha256().entrySet()) {
                assertEquals(tensor.getValue(), parameters.path(tensor.getKey()).asText(),
                        "parameter " + tensor.getKey() + " of worker " + worker.path("gpu_uuid").asText());
            }
        }
    }

    private double bucketsLoaded(String gpu) {
        var counter = registry.find("weightlift.pipeline.buckets").tag("gpu", gpu).counter();
        return counter == null ? 0 : counter.count();
    }

    private static void assertMessage(Throwable e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "'" + e.getMessage() + "' lacks '" + part + "'");
        }
    }

    @Test
    void everyParameterArrivesOnBothWorkersUnderEverySchedule() throws Exception {
        Path podView = Files.createSymbolicLink(dir.resolve("pod-mount"), dir.resolve("sockets"));
        TestEngine engine = engine("--socket-dir", podView.toString());
        record Schedule(boolean overlap, PipelineOptions.Staging staging, boolean checksums, boolean inPlace) {
        }
        List<Schedule> schedules = List.of(new Schedule(true, PipelineOptions.Staging.AUTO, false, true),
                new Schedule(false, PipelineOptions.Staging.AUTO, true, true),
                new Schedule(true, PipelineOptions.Staging.AUTO, false, false),
                new Schedule(true, PipelineOptions.Staging.ALWAYS, true, false),
                new Schedule(false, PipelineOptions.Staging.AUTO, false, false));
        int seed = 0;
        for (Schedule schedule : schedules) {
            GeneratedCheckpoint checkpoint = checkpoint(engine, ++seed);
            List<PipelineBucket> buckets = checkpoint.buckets(SLOT, schedule.checksums());
            assertTrue(buckets.size() >= 4, "the model spans several buckets: " + buckets.size());
            String version = "v" + seed;
            List<PipelineResult> results = update(engine, version, buckets, options().withOverlap(schedule.overlap())
                    .withStaging(schedule.staging()).withInPlace(schedule.inPlace()));
            assertEquals(2, results.size());
            for (PipelineResult r : results) {
                assertEquals(buckets.size(), r.buckets(), schedule.toString());
                assertEquals(buckets.stream().mapToLong(PipelineBucket::bytes).sum(), r.bytes());
                assertEquals(schedule.inPlace() ? buckets.size() : 0, r.inPlaceBuckets(), schedule.toString());
                assertEquals(!schedule.inPlace() && (schedule.staging() == PipelineOptions.Staging.ALWAYS
                        || !schedule.overlap()), r.staged(), schedule.toString());
            }
            assertEngineHolds(engine, checkpoint, version);
        }
    }

    @Test
    void anEngineErrorMidUpdateFailsWithItsMessageAndSendsNothingMore() throws Exception {
        TestEngine engine = engine("--fail-at-bucket", "1");
        GeneratedCheckpoint checkpoint = checkpoint(engine, 7);
        PipelineException e = assertThrows(PipelineException.class,
                () -> update(engine, "v1", checkpoint.buckets(SLOT, false), options()));
        assertMessage(e, "injected failure at bucket 1", "failed at waiting for the engine worker to load bucket 1",
                "loading bucket 1");
        for (String gpu : uuids()) {
            // The reported GPU failed on its own worker's error at bucket 1, so it had bucket 0 acknowledged (even
            // when the engine's failed call cancelled the update first); the other may have been cancelled before
            // it sent bucket 0. Neither got past bucket 1.
            double expected = e.getMessage().startsWith("update default/wu/v1 on GPU " + gpu) ? 1.0 : bucketsLoaded(gpu);
            assertEquals(expected, bucketsLoaded(gpu), "buckets acknowledged on " + gpu);
            assertTrue(bucketsLoaded(gpu) <= 1.0, "no bucket after the failing one on " + gpu);
        }
        assertTrue(engine.isAlive());
        assertTrue(engine.rpc("weight_checksums").get(0).path("version").isNull());
    }

    @Test
    void aChecksumMismatchFailsTheUpdateForThatInstanceNamingBucketAndChecksums() throws Exception {
        TestEngine engine = engine();
        GeneratedCheckpoint checkpoint = checkpoint(engine, 12);
        List<PipelineBucket> buckets = checkpoint.buckets(SLOT, true);
        // The host copy changes after its checksum was taken: the engine must refuse what it received.
        CopyRange corrupted = buckets.get(1).ranges().get(0);
        ByteBuffer firstByte = corrupted.source().view(corrupted.sourceOffset(), 1);
        firstByte.put(0, (byte) ~firstByte.get(0));
        PipelineException e = assertThrows(PipelineException.class, () -> update(engine, "v1", buckets, options()));
        assertMessage(e, "loading bucket 1", "bucket 1: checksum mismatch (crc32 0x",
                String.format("agent sent %#010x", buckets.get(1).crc32()), "engine:");
        for (String gpu : uuids()) {
            assertTrue(bucketsLoaded(gpu) <= 1.0, "no bucket after the corrupted one on " + gpu);
        }
        assertTrue(engine.rpc("weight_checksums").get(0).path("version").isNull());
    }

    @Test
    void anEngineThatNeverConnectsFailsAfterTheConnectDeadline() throws Exception {
        TestEngine engine = engine("--never-connect");
        GeneratedCheckpoint checkpoint = checkpoint(engine, 8);
        PipelineOptions options = options().withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(5));
        List<InstanceUpdate.GpuPart> parts = backend.gpus().stream()
                .map(gpu -> new InstanceUpdate.GpuPart(gpu, null, checkpoint.buckets(SLOT, false))).toList();
        long start = System.nanoTime();
        PipelineException e = assertThrows(PipelineException.class, () -> new InstanceUpdate(new NativeConnector(server), nodePipeline)
                .run("default/wu/v1", "v1", VllmNativeTrigger.at("127.0.0.1", engine.port()), parts, options,
                        Duration.ofSeconds(3)));
        assertMessage(e, "did not connect");
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(20).toNanos());
    }

    @Test
    void anEngineThatDiesMidUpdateFailsTheUpdate() throws Exception {
        TestEngine engine = engine("--die-at-bucket", "2");
        GeneratedCheckpoint checkpoint = checkpoint(engine, 9);
        PipelineException e = assertThrows(PipelineException.class,
                () -> update(engine, "v1", checkpoint.buckets(SLOT, false), options()));
        assertMessage(e, "closed the connection");
        assertTrue(engine.awaitExit(Duration.ofSeconds(10)), "the engine process exited");
    }

    @Test
    void anAgentSideFailureAbortsTheEngineSoItNeverReportsSuccess() throws Exception {
        TestEngine engine = engine();
        GeneratedCheckpoint checkpoint = checkpoint(engine, 11);
        List<PipelineBucket> buckets = checkpoint.buckets(SLOT, false);
        checkpoint.close();
        PipelineException copied = assertThrows(PipelineException.class,
                () -> update(engine, "v1", buckets, options().withInPlace(false)));
        assertMessage(copied, "failed at copying bucket 0 from the host store", "is closed", "engine:", "aborted the update");
        PipelineException inPlace = assertThrows(PipelineException.class, () -> update(engine, "v2", buckets, options()));
        assertMessage(inPlace, "failed at reading bucket 0 in place from the host store", "is closed", "engine:",
                "aborted the update");
        assertTrue(engine.rpc("weight_checksums").get(0).path("version").isNull());
    }

    @Test
    void aTensorThatDoesNotFitASlotIsRefusedBeforeAnythingIsSent() throws Exception {
        TestEngine engine = engine();
        GeneratedCheckpoint checkpoint = checkpoint(engine, 10);
        long smallSlot = 8 << 10;
        PipelineException e = assertThrows(PipelineException.class, () -> update(engine, "v1",
                checkpoint.buckets(smallSlot, false), PipelineOptions.defaults(smallSlot)));
        assertMessage(e, "does not fit a slot of 8192 bytes", "embed.weight");
        for (String gpu : uuids()) {
            assertEquals(0.0, bucketsLoaded(gpu));
        }
        assertTrue(engine.rpc("weight_checksums").get(0).path("version").isNull());
    }
}
