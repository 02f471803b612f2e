package dev.weightlift.agent.bench;

import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.cuda.CudaBackend;
import dev.weightlift.agent.engine.TensorEntry;
import dev.weightlift.agent.engine.nativeprotocol.ChannelServerConfig;
import dev.weightlift.agent.engine.nativeprotocol.ChannelTimeouts;
import dev.weightlift.agent.engine.nativeprotocol.EngineChannelServer;
import dev.weightlift.agent.engine.nativeprotocol.NativeWorkerChannel;
import dev.weightlift.agent.pipeline.Cancellation;
import dev.weightlift.agent.pipeline.CopyRange;
import dev.weightlift.agent.pipeline.GpuAssignment;
import dev.weightlift.agent.pipeline.NodePipeline;
import dev.weightlift.agent.pipeline.PipelineBucket;
import dev.weightlift.agent.pipeline.PipelineMetrics;
import dev.weightlift.agent.pipeline.PipelineOptions;
import dev.weightlift.agent.store.CheckpointVersion;
import dev.weightlift.agent.store.HostStore;
import dev.weightlift.agent.store.TensorLocation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real model through the agent's real path on the GPU: the safetensors file made by
 * {@code agent/bench/make_model.py} is loaded by the host store into pinned memory of the cuda backend,
 * packed into buckets (tensors never split) and pushed by the node pipeline through the native protocol
 * and the CUDA IPC buffer into an engine process ({@code weightlift_engine.update_from_agent}) whose model
 * was built the same way from other random weights. Its logits must differ from the reference before the
 * update and equal it bit for bit after.
 * Usage: CudaModelCheck --dir DIR --engine agent/bench/engine_consumer.py [--bucket 16Mi]
 */
public final class CudaModelCheck {

    private static final Duration STEP = Duration.ofSeconds(120);
    private static final long ALIGN = 256;

    private CudaModelCheck() {
    }

    public static void main(String[] argv) throws Exception {
        BenchArgs args = new BenchArgs(argv);
        Path dir = Path.of(args.text("dir"));
        long slot = args.bytes("bucket", "16Mi");
        Path socketDir = Files.createTempDirectory("weightlift-model");
        try (CudaBackend backend = CudaBackend.open(Long.MAX_VALUE);
                HostStore store = new HostStore(backend.hostAllocator());
                EngineChannelServer server = EngineChannelServer.start(ChannelServerConfig.unixSocket(socketDir));
                NodePipeline node = new NodePipeline(PipelineMetrics.unregistered())) {
            Gpu gpu = backend.gpus().get(0);
            CheckpointVersion checkpoint = store.loadDirectory("bench-model", "v1", dir);
            List<PipelineBucket> buckets = buckets(checkpoint, slot);
            try (BenchEngine engine = BenchEngine.start(Path.of(args.text("engine")), gpu.uuid(), Duration.ofMinutes(3))) {
                engine.call("model " + Files.readString(dir.resolve("config.json")).trim() + " 2", STEP);
                String before = engine.call("logits " + dir.resolve("reference.pt"), STEP);
                NativeWorkerChannel channel = server.expect("bench-model", gpu.uuid(), ChannelTimeouts.defaults());
                engine.send("update " + server.endpoint() + " bench-model");
                node.run("bench-model", "v1", List.of(new GpuAssignment(gpu, channel, null, buckets,
                        PipelineOptions.defaults(slot))), new Cancellation(), STEP);
                String loaded = engine.awaitReply("update bench-model", STEP, "ok");
                channel.close();
                String after = engine.call("logits " + dir.resolve("reference.pt"), STEP);
                System.out.printf("model_tensors=%d model_bytes=%d buckets=%d engine_buckets_bytes=\"%s\" logits_before=\"%s\" "
                        + "logits_after=\"%s\"%n", checkpoint.tensors().size(), checkpoint.bytes(), buckets.size(), loaded, before, after);
                boolean ok = before.startsWith("differ") && after.equals("equal");
                System.out.println("model_logits_equal=" + ok);
                if (!ok) {
                    System.exit(1);
                }
            }
        }
    }

    /**
     * The checkpoint's tensors in order, packed into buckets of at most {@code slot} bytes at 256-byte
     * aligned offsets; a tensor is never split. (Bucket plans come from the operator's planner; this bench
     * has no operator, so it packs them itself.)
     */
    static List<PipelineBucket> buckets(CheckpointVersion checkpoint, long slot) {
        List<PipelineBucket> buckets = new ArrayList<>();
        List<CopyRange> ranges = new ArrayList<>();
        List<TensorEntry> tensors = new ArrayList<>();
        long used = 0;
        for (TensorLocation t : checkpoint.tensors()) {
            if (t.nbytes() > slot) {
                throw new IllegalArgumentException("tensor " + t.name() + " of " + t.nbytes() + " bytes does not fit a " + slot + "-byte slot");
            }
            long at = (used + ALIGN - 1) / ALIGN * ALIGN;
            if (!tensors.isEmpty() && at + t.nbytes() > slot) {
                buckets.add(new PipelineBucket(buckets.size(), 0, used, ranges, tensors, null));
                ranges = new ArrayList<>();
                tensors = new ArrayList<>();
                at = 0;
            }
            if (t.nbytes() > 0) {
                ranges.add(new CopyRange(checkpoint.buffers().get(t.buffer()), t.offset(), at, t.nbytes()));
            }
            tensors.add(new TensorEntry(t.name(), t.dtype().name(), t.shape(), at, t.nbytes()));
            used = at + t.nbytes();
        }
        if (!tensors.isEmpty()) {
            buckets.add(new PipelineBucket(buckets.size(), 0, used, ranges, tensors, null));
        }
        return buckets;
    }
}
