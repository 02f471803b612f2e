package dev.weightlift.agent.bench;

import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.SharedRegion;
import dev.weightlift.agent.device.StreamEvent;
import dev.weightlift.agent.device.cuda.CudaBackend;
import dev.weightlift.agent.device.cuda.CudaGpu;
import dev.weightlift.agent.device.cuda.NcclCollective;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;

/**
 * One agent rank of a weight update into a stand-in engine process on its GPU (CUDA IPC), with a
 * checkable checkpoint: bucket {@code k} of {@code --total} bytes is owned by rank {@code k % ranks}. Per
 * bucket: H2D on the owner, D2D into slot {@code k % 2} of the shared buffer and NCCL broadcast from the
 * owner (one rank: H2D straight into the slot), then the engine copies the slot out while the next bucket
 * moves. {@code --schedule overlap} runs the H2D of round {@code r + 1} during the broadcasts of round
 * {@code r}; {@code serial} is checkpoint-engine's schedule (all H2D of a round, then its broadcasts).
 * Every run ends with the engine checking every byte. Rank 0 prints the figures.
 * Usage: CudaUpdateBench --rank R --ranks N --gpu I --id-file F --total 16Gi --bucket 1Gi
 *        --engine agent/bench/engine_consumer.py [--schedules serial,overlap] [--reps 2]
 */
public final class CudaUpdateBench {

    private static final Duration STEP = Duration.ofSeconds(60);
    private static final long SEED = 0x5EEDL;

    private final int rank;
    private final int ranks;
    private final long total;
    private final long bucket;
    private final int buckets;
    private final CudaGpu gpu;
    private final MemoryRegion host;
    private final SharedRegion shared;
    private final MemoryRegion[] staging;
    private final CopyStream h2d;
    private final CopyStream bcast;
    private final NcclCollective nccl;
    private final MemoryRegion barrierBuffer;
    private final BenchEngine engine;

    private CudaUpdateBench(int rank, int ranks, long total, long bucket, CudaBackend backend, int gpuIndex,
            NcclCollective nccl, BenchEngine engine) {
        this.rank = rank;
        this.ranks = ranks;
        this.total = total;
        this.bucket = bucket;
        this.buckets = (int) ((total + bucket - 1) / bucket);
        this.gpu = backend.gpu(gpuIndex);
        this.nccl = nccl;
        this.engine = engine;
        this.host = backend.hostAllocator().allocatePinned(ownedBytes());
        this.shared = gpu.allocateShared(2 * bucket);
        this.staging = ranks == 1 ? new MemoryRegion[0] : new MemoryRegion[] {gpu.allocate(bucket), gpu.allocate(bucket)};
        this.h2d = gpu.newStream("h2d");
        this.bcast = gpu.newStream("broadcast");
        this.barrierBuffer = gpu.allocate(256);
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
        try (CudaBackend backend = CudaBackend.open(Long.MAX_VALUE)) {
            CudaGpu gpu = backend.gpu(args.integer("gpu", rank));
            BenchEngine engine = BenchEngine.start(Path.of(args.text("engine")), gpu.uuid(), Duration.ofMinutes(3));
            NcclCollective nccl = ranks == 1 ? null : NcclRendezvous.join(gpu, rank, ranks, Path.of(args.text("id-file")));
            CudaUpdateBench bench = new CudaUpdateBench(rank, ranks, total, bucket, backend, gpu.index(), nccl, engine);
            try {
                bench.fillHost();
                engine.call("open " + HexFormat.of().formatHex(bench.shared.handle().ipcHandle()) + " " + bench.shared.size(), STEP);
                double best = 0;
                double bestSerial = 0;
                for (int r = 0; r < reps; r++) {
                    for (String schedule : schedules) {
                        double gbps = bench.run(schedule.equals("overlap"));
                        String check = engine.call("check " + SEED + " " + total, Duration.ofMinutes(2));
                        System.out.printf("rank=%d gpu=%s schedule=%s update_GBps=%.2f mismatched_words=%s%n", rank, gpu.uuid(),
                                schedule, gbps, check);
                        if (!check.equals("0")) {
                            throw new IllegalStateException("rank " + rank + ": " + check + " words differ after the " + schedule + " update");
                        }
                        if (schedule.equals("overlap")) {
                            best = Math.max(best, gbps);
                        } else {
                            bestSerial = Math.max(bestSerial, gbps);
                        }
                    }
                }
                if (rank == 0) {
                    System.out.printf("checkpoint_bytes=%d bucket_bytes=%d ranks=%d every_byte_checked=true%n", total, bucket, ranks);
                    System.out.printf("update_overlap_GBps=%.2f%n", best);
                    if (bestSerial > 0) {
                        System.out.printf("update_serial_GBps=%.2f%noverlap_over_serial=%.3f%n", bestSerial, best / bestSerial);
                    }
                    if (bound > 0) {
                        System.out.printf("bound_GBps=%.2f%nratio=%.3f%n", bound, best / bound);
                    }
                }
            } finally {
                bench.close();
            }
        }
    }

    private long ownedBytes() {
        long bytes = 0;
        for (int k = rank; k < buckets; k += ranks) {
            bytes += size(k);
        }
        return bytes;
    }

    private long size(int k) {
        return Math.min(bucket, total - k * bucket);
    }

    private long hostOffset(int k) {
        return (long) (k / ranks) * bucket;
    }

    private void fillHost() throws Exception {
        ExecutorService pool = PatternFill.pool();
        try {
            for (int k = rank; k < buckets; k += ranks) {
                PatternFill.fill(host, hostOffset(k), k * bucket, size(k), SEED, pool);
            }
        } finally {
            pool.shutdown();
        }
    }

    /** One whole update; returns checkpoint bytes per second (GB/s) as seen by rank 0 after a closing barrier. */
    private double run(boolean overlap) {
        engine.call("alloc " + total, STEP);
        barrier();
        long t0 = System.nanoTime();
        if (ranks == 1) {
            runSingle();
        } else {
            runBroadcast(overlap);
        }
        engine.awaitReply("load of bucket " + (buckets - 1), STEP, "ok");
        barrier();
        return total / ((System.nanoTime() - t0) / 1e9) / 1e9;
    }

    /** One GPU: H2D of bucket k+1 into the free slot while the engine copies bucket k out of the other. */
    private void runSingle() {
        h2d.copy(host, hostOffset(0), shared, 0, size(0));
        for (int k = 0; k < buckets; k++) {
            awaitStream(h2d);
            if (k > 0) {
                engine.awaitReply("load of bucket " + (k - 1), STEP, "ok");
            }
            if (k + 1 < buckets) {
                h2d.copy(host, hostOffset(k + 1), shared, slot(k + 1), size(k + 1));
            }
            engine.send("load " + slot(k) + " " + k * bucket + " " + size(k));
        }
    }

    private void runBroadcast(boolean overlap) {
        int rounds = (buckets + ranks - 1) / ranks;
        StreamEvent[] h2dDone = new StreamEvent[2];
        StreamEvent[] d2dDone = new StreamEvent[2];
        if (overlap) {
            h2dDone[0] = stage(0, d2dDone);
        }
        for (int r = 0; r < rounds; r++) {
            if (!overlap) {
                close(h2dDone[r % 2]);
                h2dDone[r % 2] = stage(r, d2dDone);
                h2d.synchronize();
            } else if (r + 1 < rounds) {
                close(h2dDone[(r + 1) % 2]);
                h2dDone[(r + 1) % 2] = stage(r + 1, d2dDone);
            }
            for (int owner = 0; owner < ranks; owner++) {
                int k = r * ranks + owner;
                if (k >= buckets) {
                    break;
                }
                if (owner == rank) {
                    bcast.waitFor(h2dDone[r % 2]);
                    bcast.copy(staging[r % 2], 0, shared, slot(k), size(k));
                    close(d2dDone[r % 2]);
                    d2dDone[r % 2] = bcast.record();
                }
                nccl.broadcast(shared, slot(k), size(k), owner, bcast);
                awaitStream(bcast);
                if (k > 0) {
                    engine.awaitReply("load of bucket " + (k - 1), STEP, "ok");
                }
                engine.send("load " + slot(k) + " " + k * bucket + " " + size(k));
            }
        }
        for (int i = 0; i < 2; i++) {
            close(h2dDone[i]);
            close(d2dDone[i]);
        }
    }

    /** Enqueues the H2D of this rank's bucket of {@code round} into its staging buffer, once that buffer is free. */
    private StreamEvent stage(int round, StreamEvent[] d2dDone) {
        int k = round * ranks + rank;
        if (k >= buckets) {
            return h2d.record();
        }
        if (d2dDone[round % 2] != null) {
            h2d.waitFor(d2dDone[round % 2]);
        }
        h2d.copy(host, hostOffset(k), staging[round % 2], 0, size(k));
        return h2d.record();
    }

    private long slot(int k) {
        return (k % 2) * bucket;
    }

    private void barrier() {
        if (nccl != null) {
            nccl.broadcast(barrierBuffer, 0, 8, 0, bcast);
            bcast.synchronize();
        }
    }

    private static void awaitStream(CopyStream stream) {
        try (StreamEvent done = stream.record()) {
            if (!done.await(STEP)) {
                throw new IllegalStateException("copies on " + stream + " did not finish within " + STEP);
            }
        }
    }

    private static void close(StreamEvent event) {
        if (event != null) {
            event.close();
        }
    }

    private void close() {
        engine.close();
        h2d.close();
        bcast.close();
        if (nccl != null) {
            nccl.close();
        }
        host.close();
        shared.close();
        barrierBuffer.close();
        for (MemoryRegion region : staging) {
            region.close();
        }
    }
}
