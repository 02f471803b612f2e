package dev.weightlift.agent.bench;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.DeviceBackend;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.cuda.CudaBackend;
import dev.weightlift.agent.device.cuda.CudaGpu;
import dev.weightlift.agent.device.cuda.NcclCollective;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
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
import dev.weightlift.agent.pipeline.PipelineResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;

/**
 * The agent's real update path on the GPU: the node pipeline ({@link NodePipeline}, one worker thread per
 * GPU) moves a checkable checkpoint from pinned host memory through the native protocol's Unix socket and
 * the CUDA IPC buffer into an engine process running {@code weightlift_engine.update_from_agent}; with
 * several ranks (one process each) bucket {@code g} is owned by rank {@code g % ranks} and broadcast over
 * NCCL. Each update is timed from a barrier to the engine's "done" (shared-buffer set-up, release and
 * finish included) and followed by the engine checking every byte it kept: the whole checkpoint, or with
 * {@code --sample BYTES} (checkpoints larger than a GPU) a tensor-parallel engine's share (slice {@code rank}
 * of every tensor) and about that many bytes of whole tensors. Rank 0 prints the figures.
 * Usage: PipelineGpuBench --rank R --ranks N --gpu I --id-file F --total 16Gi --bucket 1Gi
 *        --engine agent/bench/engine_consumer.py [--schedules serial,overlap] [--reps 2] [--backend cuda|host]
 *        [--retain-buffers false] (true: shared and staging buffers kept between updates, as PipelineOptions allows)
 *        [--sample 0] (bytes of whole tensors each engine keeps and checks; 0: the whole checkpoint)
 */
public final class PipelineGpuBench {

    private static final Duration STEP = Duration.ofSeconds(120);
    private static final long SEED = 0x5EEDL;

    private PipelineGpuBench() {
    }

    public static void main(String[] argv) throws Exception {
        BenchArgs args = new BenchArgs(argv);
        int rank = args.integer("rank", 0);
        int ranks = args.integer("ranks", 1);
        long total = args.bytes("total", "16Gi");
        long bucket = args.bytes("bucket", "1Gi");
        int reps = args.integer("reps", 2);
        String[] schedules = args.text("schedules", ranks == 1 ? "overlap" : "serial,overlap").split(",");
        double bound = args.number("bound-GBps", 0);
        boolean retain = Boolean.parseBoolean(args.text("retain-buffers", "false"));
        String engineModel = engineModel(total, bucket, args.bytes("sample", "0"), rank, ranks);
        Path socketDir = Files.createTempDirectory("weightlift-bench");
        try (DeviceBackend backend = open(args.text("backend", "cuda"));
                EngineChannelServer server = EngineChannelServer.start(ChannelServerConfig.unixSocket(socketDir));
                NodePipeline node = new NodePipeline(PipelineMetrics.unregistered())) {
            Gpu gpu = backend.gpus().get(args.integer("gpu", rank));
            try (BenchEngine engine = BenchEngine.start(Path.of(args.text("engine")), gpu.uuid(), Duration.ofMinutes(3));
                    Collective nccl = ranks == 1 ? null : NcclRendezvous.join((CudaGpu) gpu, rank, ranks, Path.of(args.text("id-file")));
                    MemoryRegion host = pinned(backend, rank, ownedBytes(rank, ranks, total, bucket));
                    MemoryRegion barrier = gpu.allocate(256);
                    CopyStream barrierStream = gpu.newStream("barrier")) {
                List<PipelineBucket> buckets = plan(host, rank, ranks, total, bucket);
                double best = 0;
                double bestSerial = 0;
                double bestSeconds = Double.MAX_VALUE;
                double bestSerialSeconds = Double.MAX_VALUE;
                int update = 0;
                for (int r = 0; r < reps; r++) {
                    for (String schedule : schedules) {
                        boolean overlap = schedule.equals("overlap");
                        PipelineOptions options = PipelineOptions.defaults(bucket).withOverlap(overlap).withRetainedBuffers(retain);
                        String name = "bench-" + (++update);
                        engine.call("alloc " + engineModel, STEP);
                        NativeWorkerChannel channel = server.expect(name, gpu.uuid(), ChannelTimeouts.defaults());
                        engine.send("update " + server.endpoint() + " " + name);
                        channel.awaitConnected(STEP);
                        barrier(nccl, barrier, barrierStream);
                        long t0 = System.nanoTime();
                        PipelineResult result = node.run(name, "v" + update,
                                List.of(new GpuAssignment(gpu, channel, nccl, buckets, options)), new Cancellation(), STEP).get(0);
                        barrier(nccl, barrier, barrierStream);
                        double seconds = (System.nanoTime() - t0) / 1e9;
                        double gbps = total / seconds / 1e9;
                        String loaded = engine.awaitReply("update " + name, STEP, "ok");
                        channel.close();
                        String check = engine.call("check " + SEED + " " + total, Duration.ofMinutes(2));
                        System.out.printf("rank=%d gpu=%s schedule=%s update_s=%.3f update_GBps=%.2f staged=%s setup_ms=%d stage_wait_ms=%d "
                                + "publish_wait_ms=%d ack_wait_ms=%d finish_ms=%d engine_buckets_bytes=\"%s\" mismatched_words=%s%n", rank,
                                gpu.uuid(), schedule, seconds, gbps, result.staged(), result.setup().toMillis(), result.stageWait().toMillis(),
                                result.publishWait().toMillis(), result.ackWait().toMillis(),
                                result.finish().toMillis(), loaded, check);
                        if (!check.split(" ")[0].equals("0")) {
                            throw new IllegalStateException("rank " + rank + ": " + check + " words differ after update " + name);
                        }
                        if (overlap) {
                            best = Math.max(best, gbps);
                            bestSeconds = Math.min(bestSeconds, seconds);
                        } else {
                            bestSerial = Math.max(bestSerial, gbps);
                            bestSerialSeconds = Math.min(bestSerialSeconds, seconds);
                        }
                    }
                }
                if (rank == 0) {
                    System.out.printf("checkpoint_bytes=%d bucket_bytes=%d ranks=%d retained_buffers=%s engine_keeps=\"%s\"%n", total,
                            bucket, ranks, retain, engineModel.contains(" ") ? "shard + sample (alloc " + engineModel + ")" : "everything");
                    if (best > 0) {
                        System.out.printf("pipeline_overlap_GBps=%.2f%npipeline_overlap_s=%.3f%n", best, bestSeconds);
                    }
                    if (bestSerial > 0) {
                        System.out.printf("pipeline_serial_GBps=%.2f%npipeline_serial_s=%.3f%n", bestSerial, bestSerialSeconds);
                    }
                    if (best > 0 && bestSerial > 0) {
                        System.out.printf("overlap_over_serial=%.3f%n", best / bestSerial);
                    }
                    if (bound > 0) {
                        System.out.printf("bound_GBps=%.2f%nratio=%.3f%n", bound, best / bound);
                    }
                }
            }
        }
    }

    /**
     * The engine's {@code alloc} arguments: the whole checkpoint, or (sample > 0) this rank's tensor-parallel
     * slice of every bucket-sized tensor plus one whole tensor in every {@code stride}, about {@code sample} bytes.
     */
    static String engineModel(long total, long bucket, long sample, int rank, int ranks) {
        if (sample <= 0) {
            return Long.toString(total);
        }
        long tensors = (total + bucket - 1) / bucket;
        long kept = Math.max(1, sample / bucket);
        long stride = Math.max(1, (tensors + kept - 1) / kept);
        return total + " " + rank + " " + ranks + " " + bucket + " " + stride;
    }

    private static MemoryRegion pinned(DeviceBackend backend, int rank, long bytes) {
        long t0 = System.nanoTime();
        MemoryRegion host = backend.hostAllocator().allocatePinned(bytes);
        System.out.printf("rank=%d pinned_host_bytes=%d pin_s=%.1f%n", rank, bytes, (System.nanoTime() - t0) / 1e9);
        return host;
    }

    private static DeviceBackend open(String name) {
        return switch (name) {
            case "cuda" -> CudaBackend.open(Long.MAX_VALUE);
            case "host" -> new HostBackend(HostBackendConfig.defaults("bench"));
            default -> throw new IllegalArgumentException("--backend is cuda or host, not " + name);
        };
    }

    /** Bucket g: bytes [g * bucket, +size) of the checkpoint, one tensor named by its offset, owned by rank g % ranks. */
    static List<PipelineBucket> plan(MemoryRegion host, int rank, int ranks, long total, long bucket) throws Exception {
        int count = (int) ((total + bucket - 1) / bucket);
        List<PipelineBucket> buckets = new ArrayList<>();
        ExecutorService pool = PatternFill.pool();
        try {
            for (int g = 0; g < count; g++) {
                long size = Math.min(bucket, total - g * bucket);
                int owner = g % ranks;
                List<CopyRange> ranges = new ArrayList<>();
                if (owner == rank) {
                    long hostOffset = (long) (g / ranks) * bucket;
                    PatternFill.fill(host, hostOffset, g * bucket, size, SEED, pool);
                    ranges.add(new CopyRange(host, hostOffset, 0, size));
                }
                TensorEntry tensor = new TensorEntry("bytes@" + g * bucket, "U8", new long[] {size}, 0, size);
                buckets.add(new PipelineBucket(g, owner, size, ranges, List.of(tensor), null));
            }
        } finally {
            pool.shutdown();
        }
        return buckets;
    }

    private static long ownedBytes(int rank, int ranks, long total, long bucket) {
        long bytes = 0;
        for (long g = rank; g * bucket < total; g += ranks) {
            bytes += Math.min(bucket, total - g * bucket);
        }
        return bytes;
    }

    private static void barrier(Collective nccl, MemoryRegion buffer, CopyStream stream) {
        if (nccl != null) {
            nccl.broadcast(buffer, 0, 8, 0, stream);
            stream.synchronize();
        }
    }
}
