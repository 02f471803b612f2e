package dev.weightlift.agent.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.device.SharedRegion;
import dev.weightlift.agent.device.StreamEvent;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
import dev.weightlift.agent.engine.EngineProtocol;
import dev.weightlift.agent.engine.EngineType;
import dev.weightlift.agent.engine.TensorEntry;
import dev.weightlift.agent.engine.checkpointengine.CheckpointEngineConnector;
import dev.weightlift.agent.engine.checkpointengine.Python;
import dev.weightlift.agent.engine.trigger.EngineTrigger;
import dev.weightlift.agent.engine.trigger.EngineTriggers;
import dev.weightlift.agent.store.HostStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.ZContext;

/**
 * The checkpoint-engine protocol through {@link InstanceUpdate} on the host backend. Its workers open the shared
 * buffer only as a CUDA IPC handle, so the host backend refuses the protocol before anything is triggered;
 * the pipeline itself is driven with GPUs that present their host regions under a CUDA IPC handle (as the
 * cuda backend's do) and real pyzmq workers running checkpoint-engine v0.4's loop over the stub torch,
 * which check the handle tuple and every bucket's metadata without opening the buffer.
 */
class CheckpointEnginePipelineTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SLOT = 16 << 10;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private HostBackend backend;
    private HostStore store;
    private NodePipeline nodePipeline;
    private ZContext zmq;
    private HttpServer sglang;
    private GeneratedCheckpoint checkpoint;
    private final AtomicInteger updateCalls = new AtomicInteger();
    private final AtomicLong shmFilesWhileEngineCallRuns = new AtomicLong(-1);
    private volatile String[] workerFlags = {};

    @BeforeEach
    void start() throws IOException {
        Path shm = Files.createDirectories(dir.resolve("shm"));
        backend = new HostBackend(new HostBackendConfig("node-a", 2, 64L << 20, 64L << 20, shm, Duration.ofSeconds(30)));
        store = new HostStore(backend.hostAllocator());
        nodePipeline = new NodePipeline(new PipelineMetrics(new SimpleMeterRegistry()));
        zmq = new ZContext();
        sglang = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        sglang.setExecutor(Executors.newCachedThreadPool());
        sglang.createContext("/ping", exchange -> respond(exchange, 200, ""));
        sglang.createContext("/update_weights_from_ipc", this::runWorkers);
        sglang.start();
        ArrayNode parameters = JSON.createArrayNode();
        for (int layer = 0; layer < 4; layer++) {
            parameters.addObject().put("name", "layers." + layer + ".w").put("dtype", "BF16").putArray("shape").add(64).add(96);
            parameters.addObject().put("name", "layers." + layer + ".b").put("dtype", "F32").putArray("shape").add(96);
        }
        checkpoint = GeneratedCheckpoint.generate(parameters, store, Files.createDirectories(dir.resolve("ckpt")), "c1", 1);
    }

    @AfterEach
    void stop() {
        sglang.stop(0);
        checkpoint.close();
        nodePipeline.close();
        zmq.close();
        store.close();
        backend.close();
        assertEquals(0, backend.leakedRegions(), "regions left open");
    }

    @Test
    void theHostBackendRefusesTheProtocolBeforeTriggeringTheEngine() {
        PipelineException e = assertThrows(PipelineException.class, () -> update("host", backend.gpus(), checkpoint.buckets(SLOT, false)));
        assertTrue(e.getMessage().contains("engine.protocol checkpoint-engine requires the cuda backend")
                && e.getMessage().contains("runs the host backend"), e.getMessage());
        assertEquals(0, updateCalls.get(), "the engine was not called");
    }

    @Test
    void checksumsAreRefusedBecauseTheProtocolCannotCarryThem() {
        PipelineException e = assertThrows(PipelineException.class,
                () -> update("cuda", ipcGpus(), checkpoint.buckets(SLOT, true)));
        assertTrue(e.getMessage().contains("verify Checksum needs engine.protocol native"), e.getMessage());
        assertEquals(0, updateCalls.get(), "the engine was not called");
    }

    @Test
    void everyWorkerGetsTheHandleEachBucketsMetadataInItsSlotAndTheTwoTrailingNones() throws Exception {
        List<PipelineBucket> buckets = checkpoint.buckets(SLOT, false);
        assertTrue(buckets.size() >= 4, "several buckets: " + buckets.size());
        List<PipelineResult> results = update("cuda", ipcGpus(), buckets);
        assertEquals(2, results.size());
        for (Gpu gpu : backend.gpus()) {
            List<JsonNode> events = events(gpu);
            List<String> kinds = events.stream().map(e -> e.get("kind").asText()).toList();
            List<String> expected = new ArrayList<>(List.of("shared"));
            buckets.forEach(b -> expected.add("bucket"));
            expected.addAll(List.of("released", "post_hook"));
            assertEquals(expected, kinds, "worker of " + gpu.uuid());
            assertEquals(2 * SLOT, events.get(0).get("size").asLong());
            for (int g = 0; g < buckets.size(); g++) {
                JsonNode sent = events.get(1 + g);
                assertEquals(g, sent.get("index").asInt());
                List<TensorEntry> tensors = buckets.get(g).tensors();
                assertEquals(tensors.size(), sent.get("tensors").size());
                for (int t = 0; t < tensors.size(); t++) {
                    TensorEntry entry = tensors.get(t);
                    JsonNode seen = sent.get("tensors").get(t);
                    assertEquals(entry.name(), seen.get(0).asText());
                    assertEquals(entry.dtype().equals("BF16") ? "torch.bfloat16" : "torch.float32", seen.get(1).asText());
                    assertEquals(JSON.writeValueAsString(entry.shape()), seen.get(2).toString());
                    assertEquals((g % 2) * SLOT + entry.offset(), seen.get(3).asLong(), entry.name() + " lies in slot " + g % 2);
                }
            }
        }
    }

    @Test
    void anInstanceAcrossTwoNodesIsTriggeredOnceWithTheWorkerAddressesOfBoth() throws Exception {
        List<PipelineBucket> buckets = checkpoint.buckets(SLOT, false);
        List<Gpu> gpus = ipcGpus();
        PipelineOptions options = options();
        CheckpointEngineConnector connector = new CheckpointEngineConnector(zmq, "127.0.0.1", "cuda");
        // Two agents, one GPU each, sharing the host backend: node B does not trigger, node A does.
        try (NodePipeline nodeB = new NodePipeline(PipelineMetrics.unregistered());
                InstanceUpdate.Prepared onB = new InstanceUpdate(connector, nodeB)
                        .prepare("default/wu/1", List.of(new InstanceUpdate.GpuPart(gpus.get(1), null, buckets)), options);
                InstanceUpdate.Prepared onA = new InstanceUpdate(connector, nodePipeline)
                        .prepare("default/wu/1", List.of(new InstanceUpdate.GpuPart(gpus.get(0), null, buckets)), options)) {
            Map<String, String> fromB = onB.workerAddresses();
            assertEquals(List.of(gpus.get(1).uuid()), List.copyOf(fromB.keySet()));
            CompletableFuture<List<PipelineResult>> resultB = CompletableFuture.supplyAsync(() -> {
                try {
                    return onB.run("step-1", null, Map.of(), TIMEOUT);
                } catch (PipelineException e) {
                    throw new CompletionException(e);
                }
            });
            List<PipelineResult> resultA = onA.run("step-1", trigger(), fromB, TIMEOUT);
            assertEquals(buckets.size(), resultA.get(0).buckets());
            assertEquals(buckets.size(), resultB.get(60, TimeUnit.SECONDS).get(0).buckets());
        }
        assertEquals(1, updateCalls.get());
        for (Gpu gpu : backend.gpus()) {
            assertEquals("post_hook", events(gpu).get(events(gpu).size() - 1).get("kind").asText(), gpu.uuid());
        }
    }

    @Test
    void afterAWorkerErrorTheBufferStaysMappedUntilTheEnginesCallHasReturned() throws Exception {
        workerFlags = new String[] {"--fail-bucket", "1"};
        List<PipelineBucket> buckets = checkpoint.buckets(SLOT, false);
        PipelineException e = assertThrows(PipelineException.class, () -> update("cuda", ipcGpus(), buckets));
        assertTrue(e.getMessage().contains("failed bucket 1: ValueError: cannot load") && e.getMessage().contains("engine:"),
                e.getMessage());
        assertEquals(2, shmFilesWhileEngineCallRuns.get(),
                "both shared buffers still mapped while the workers had not returned from the engine's call");
        assertEquals(List.of(), sharedBufferFiles(), "freed once the call returned");
    }

    /** The shared buffers' files (the host store's files lie in the same directory). */
    private List<Path> sharedBufferFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("shm"))) {
            return files.filter(f -> f.getFileName().toString().startsWith("weightlift-GPU-")).toList();
        }
    }

    private List<PipelineResult> update(String backendName, List<Gpu> gpus, List<PipelineBucket> buckets)
            throws PipelineException {
        List<InstanceUpdate.GpuPart> parts = gpus.stream().map(gpu -> new InstanceUpdate.GpuPart(gpu, null, buckets)).toList();
        return new InstanceUpdate(new CheckpointEngineConnector(zmq, "127.0.0.1", backendName), nodePipeline)
                .run("default/wu/1", "step-1", trigger(), parts, options(), TIMEOUT);
    }

    private EngineTrigger trigger() {
        return EngineTriggers.create(EngineType.SGLANG, EngineProtocol.CHECKPOINT_ENGINE, "127.0.0.1",
                sglang.getAddress().getPort(), null);
    }

    private static PipelineOptions options() {
        return PipelineOptions.defaults(SLOT).withTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(20),
                Duration.ofSeconds(20)).withAbortGrace(Duration.ofSeconds(30));
    }

    /** SGLang's handler, shrunk: one checkpoint-engine worker per GPU, answered when all have left their loop. */
    private void runWorkers(HttpExchange exchange) throws IOException {
        updateCalls.incrementAndGet();
        JsonNode handles = JSON.readTree(exchange.getRequestBody()).get("zmq_handles");
        List<Process> workers = new ArrayList<>();
        List<Path> outputs = new ArrayList<>();
        for (Gpu gpu : backend.gpus()) {
            if (!handles.has(gpu.uuid())) {
                continue;
            }
            Path out = dir.resolve("worker-" + gpu.index() + ".out");
            List<String> args = new ArrayList<>(List.of(handles.get(gpu.uuid()).asText(), String.valueOf(gpu.index()),
                    dir.resolve("events-" + gpu.index() + ".jsonl").toString()));
            args.addAll(List.of(workerFlags));
            workers.add(Python.start(true, out, "ce_worker.py", args.toArray(String[]::new)));
            outputs.add(out);
        }
        StringBuilder failures = new StringBuilder();
        try {
            for (int i = 0; i < workers.size(); i++) {
                if (Python.await(workers.get(i), TIMEOUT) != 0) {
                    failures.append(Python.read(outputs.get(i)));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failures.append("interrupted");
        }
        shmFilesWhileEngineCallRuns.set(sharedBufferFiles().size());
        boolean ok = failures.isEmpty();
        respond(exchange, ok ? 200 : 400, JSON.createObjectNode().put("success", ok)
                .put("message", ok ? "Succeeded to update model weights." : failures.toString()).toString());
    }

    private List<JsonNode> events(Gpu gpu) throws IOException {
        List<JsonNode> events = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("events-" + gpu.index() + ".jsonl"))) {
            events.add(JSON.readTree(line));
        }
        return events;
    }

    private List<Gpu> ipcGpus() {
        return backend.gpus().stream().map(gpu -> (Gpu) new CudaIpcView(gpu)).toList();
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
        exchange.close();
    }

    /** A host GPU whose shared regions carry a CUDA IPC handle (64 bytes naming the region), as a cuda GPU's do. */
    private record CudaIpcView(Gpu gpu) implements Gpu {

        @Override
        public int index() {
            return gpu.index();
        }

        @Override
        public String uuid() {
            return gpu.uuid();
        }

        @Override
        public long totalMemory() {
            return gpu.totalMemory();
        }

        @Override
        public long freeMemory() {
            return gpu.freeMemory();
        }

        @Override
        public MemoryRegion allocate(long bytes) {
            return gpu.allocate(bytes);
        }

        @Override
        public SharedRegion allocateShared(long bytes) {
            SharedRegion region = gpu.allocateShared(bytes);
            byte[] handle = new byte[64];
            ByteBuffer.wrap(handle).putLong(region.address());
            ShareHandle ipc = ShareHandle.cudaIpc(gpu.uuid(), region.size(), handle);
            return new IpcRegion(region, ipc);
        }

        @Override
        public CopyStream newStream(String name) {
            CopyStream stream = gpu.newStream(name);
            return new CopyStream() {
                @Override
                public void copy(MemoryRegion src, long srcOffset, MemoryRegion dst, long dstOffset, long length) {
                    stream.copy(IpcRegion.host(src), srcOffset, IpcRegion.host(dst), dstOffset, length);
                }

                @Override
                public StreamEvent record() {
                    return stream.record();
                }

                @Override
                public void waitFor(StreamEvent event) {
                    stream.waitFor(event);
                }

                @Override
                public void synchronize() {
                    stream.synchronize();
                }

                @Override
                public void close() {
                    stream.close();
                }
            };
        }
    }

    /** A host shared region under a CUDA IPC handle; the streams copy into the host region underneath. */
    private record IpcRegion(SharedRegion region, ShareHandle handle) implements SharedRegion {

        @Override
        public boolean isClosed() {
            return region.isClosed();
        }

        static MemoryRegion host(MemoryRegion region) {
            return region instanceof IpcRegion ipc ? ipc.region : region;
        }

        @Override
        public long address() {
            return region.address();
        }

        @Override
        public long size() {
            return region.size();
        }

        @Override
        public MemoryKind kind() {
            return region.kind();
        }

        @Override
        public ByteBuffer view(long offset, int length) {
            return region.view(offset, length);
        }

        @Override
        public void close() {
            region.close();
        }
    }
}
