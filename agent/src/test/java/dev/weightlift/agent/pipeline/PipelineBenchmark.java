package dev.weightlift.agent.pipeline;

import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.NativeMemory;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
import dev.weightlift.agent.engine.nativeprotocol.ChannelServerConfig;
import dev.weightlift.agent.engine.nativeprotocol.EngineChannelServer;
import dev.weightlift.agent.engine.trigger.VllmCollectiveRpcTrigger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Host-backend pipeline throughput, from the host store into a real engine process (Python, torch model on
 * the CPU, one worker), next to the bound measured in the same run: one memcpy of the same bytes between
 * two warm host buffers. Also the same update with the overlap off (checkpoint-engine's schedule) and with a
 * staging buffer. Run by agent/bench/pipeline.sh; prints {@code ratio=R} (ours / bound) last.
 *
 * <p>Arguments (all optional): {@code hidden vocab layers slotMiB runs}.
 */
public final class PipelineBenchmark {

    private PipelineBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int hidden = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
        int vocab = args.length > 1 ? Integer.parseInt(args[1]) : 4096;
        int layers = args.length > 2 ? Integer.parseInt(args[2]) : 28;
        long slot = (args.length > 3 ? Long.parseLong(args[3]) : 32) << 20;
        int runs = args.length > 4 ? Integer.parseInt(args[4]) : 3;

        Path dir = Files.createTempDirectory("weightlift-bench");
        HostBackendConfig config = new HostBackendConfig("bench", 1, 8L << 30, 8L << 30, HostBackendConfig.DEFAULT_SHM_DIR,
                Duration.ofMinutes(5));
        try (HostBackend backend = new HostBackend(config);
                EngineChannelServer server = EngineChannelServer.start(ChannelServerConfig.unixSocket(dir));
                NodePipeline pipeline = new NodePipeline(PipelineMetrics.unregistered())) {
            Gpu gpu = backend.gpus().get(0);
            try (TestEngine engine = TestEngine.start(List.of(gpu.uuid()), dir, "--hidden", String.valueOf(hidden),
                    "--vocab", String.valueOf(vocab), "--layers", String.valueOf(layers));
                    GeneratedCheckpoint checkpoint = GeneratedCheckpoint.generate(engine.rpc("describe_parameters").get(0),
                            backend.hostAllocator(), 1)) {
                List<PipelineBucket> buckets = checkpoint.buckets(slot, false);
                long bytes = buckets.stream().mapToLong(PipelineBucket::bytes).sum();
                System.out.printf(Locale.ROOT, "checkpoint: %d tensors, %.1f MiB in %d buckets of at most %d MiB; %d runs each, best%n",
                        checkpoint.sha256().size(), bytes / 1048576.0, buckets.size(), slot >> 20, runs);
                double bound = memcpyBound(backend, checkpoint.region(), runs);
                System.out.printf(Locale.ROOT, "bound (memcpy of the same bytes, one thread): %.2f GB/s%n", bound / 1e9);

                InstanceUpdate update = new InstanceUpdate(server, pipeline);
                VllmCollectiveRpcTrigger trigger = VllmCollectiveRpcTrigger.at("127.0.0.1", engine.port());
                PipelineOptions base = PipelineOptions.defaults(slot).withRetainedBuffers(true);
                double overlapped = best(update, trigger, gpu, buckets, base, runs, "overlap on");
                double fresh = best(update, trigger, gpu, buckets, base.withRetainedBuffers(false), runs,
                        "overlap on, fresh buffers");
                double staged = best(update, trigger, gpu, buckets, base.withStaging(PipelineOptions.Staging.ALWAYS), runs,
                        "overlap on, staging buffer");
                double sequential = best(update, trigger, gpu, buckets, base.withOverlap(false), runs,
                        "overlap off (checkpoint-engine)");
                System.out.printf(Locale.ROOT, "bound %.2f GB/s; overlap on %.2f GB/s (%.2f); fresh buffers %.2f GB/s (%.2f);"
                        + " staged %.2f GB/s (%.2f); overlap off %.2f GB/s (%.2f)%n", bound / 1e9, overlapped / 1e9,
                        overlapped / bound, fresh / 1e9, fresh / bound, staged / 1e9, staged / bound, sequential / 1e9,
                        sequential / bound);
                System.out.printf(Locale.ROOT, "ratio=%.2f%n", overlapped / bound);
            }
        }
    }

    private static double memcpyBound(HostBackend backend, MemoryRegion source, int runs) {
        try (MemoryRegion target = backend.hostAllocator().allocatePinned(source.size())) {
            NativeMemory.copy(source.address(), target.address(), source.size());
            long best = Long.MAX_VALUE;
            for (int i = 0; i < runs; i++) {
                long start = System.nanoTime();
                NativeMemory.copy(source.address(), target.address(), source.size());
                best = Math.min(best, System.nanoTime() - start);
            }
            return source.size() / (best / 1e9);
        }
    }

    private static double best(InstanceUpdate update, VllmCollectiveRpcTrigger trigger, Gpu gpu, List<PipelineBucket> buckets,
            PipelineOptions options, int runs, String label) throws PipelineException {
        double best = 0;
        for (int i = 0; i <= runs; i++) {
            String version = label.replace(' ', '-') + "-" + i;
            PipelineResult r = update.run("bench/" + version, version, trigger,
                    List.of(new InstanceUpdate.GpuPart(gpu, null, buckets)), options, Duration.ofMinutes(5)).get(0);
            System.out.printf(Locale.ROOT, "  %-40s run %d: %5.2f GB/s %4.0f ms; waits: setup %d, stage %d, publish %d, load %d,"
                    + " finish %d ms%s%n", label, i, r.bytesPerSecond() / 1e9, (r.total().toNanos() - r.connect().toNanos()) / 1e6,
                    r.setup().toMillis(), r.stageWait().toMillis(), r.publishWait().toMillis(), r.ackWait().toMillis(),
                    r.finish().toMillis(), i == 0 ? " warm-up" : "");
            if (i > 0) {
                best = Math.max(best, r.bytesPerSecond());
            }
        }
        return best;
    }
}
