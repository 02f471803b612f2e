package dev.weightlift.agent.bench;

import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.cuda.CudaBackend;
import dev.weightlift.agent.device.cuda.CudaGpu;
import dev.weightlift.agent.device.cuda.NcclCollective;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The hardware bounds the update benchmarks are judged against, measured with the cuda backend itself:
 * pinned H2D on one GPU, on every GPU at once (aggregate), and NCCL broadcast GPU0 -> the others.
 * Prints {@code key=value} lines, best of {@code --reps}.
 * Usage: CudaBoundsBench [--bytes 4Gi] [--reps 3]
 */
public final class CudaBoundsBench {

    private CudaBoundsBench() {
    }

    public static void main(String[] argv) throws Exception {
        BenchArgs args = new BenchArgs(argv);
        long bytes = args.bytes("bytes", "4Gi");
        int reps = args.integer("reps", 3);
        try (CudaBackend backend = CudaBackend.open(Long.MAX_VALUE)) {
            int gpus = backend.gpus().size();
            System.out.println("gpus=" + gpus + " name=\"" + backend.gpu(0).name() + "\" bytes=" + bytes);
            ExecutorService pool = Executors.newFixedThreadPool(gpus);
            List<MemoryRegion> hosts = parallel(pool, gpus, i -> backend.hostAllocator().allocatePinned(bytes));
            List<MemoryRegion> devices = new ArrayList<>();
            List<CopyStream> streams = new ArrayList<>();
            for (int i = 0; i < gpus; i++) {
                devices.add(backend.gpu(i).allocate(bytes));
                streams.add(backend.gpu(i).newStream("h2d"));
            }
            double one = 0;
            for (int r = 0; r < reps; r++) {
                long t0 = System.nanoTime();
                streams.get(0).copy(hosts.get(0), 0, devices.get(0), 0, bytes);
                streams.get(0).synchronize();
                one = Math.max(one, bytes / ((System.nanoTime() - t0) / 1e9) / 1e9);
            }
            System.out.printf("h2d_1gpu_GBps=%.2f%n", one);
            if (gpus > 1) {
                double all = 0;
                for (int r = 0; r < reps; r++) {
                    CyclicBarrier start = new CyclicBarrier(gpus);
                    long t0 = System.nanoTime();
                    parallel(pool, gpus, i -> {
                        start.await();
                        streams.get(i).copy(hosts.get(i), 0, devices.get(i), 0, bytes);
                        streams.get(i).synchronize();
                        return null;
                    });
                    all = Math.max(all, gpus * bytes / ((System.nanoTime() - t0) / 1e9) / 1e9);
                }
                System.out.printf("h2d_%dgpu_aggregate_GBps=%.2f%n", gpus, all);
                byte[] id = NcclCollective.newUniqueId();
                List<NcclCollective> comms = parallel(pool, gpus, i -> NcclCollective.join(backend.gpu(i), id, i, gpus));
                double bcast = 0;
                for (int r = 0; r < reps + 1; r++) {
                    long t0 = System.nanoTime();
                    parallel(pool, gpus, i -> {
                        comms.get(i).broadcast(devices.get(i), 0, bytes, 0, streams.get(i));
                        streams.get(i).synchronize();
                        return null;
                    });
                    if (r > 0) {
                        bcast = Math.max(bcast, bytes / ((System.nanoTime() - t0) / 1e9) / 1e9);
                    }
                }
                System.out.printf("nccl_broadcast_GBps=%.2f%n", bcast);
                comms.forEach(NcclCollective::close);
            }
            pool.shutdown();
            streams.forEach(CopyStream::close);
            devices.forEach(MemoryRegion::close);
            hosts.forEach(MemoryRegion::close);
            for (int i = 0; i < gpus; i++) {
                CudaGpu gpu = backend.gpu(i);
                System.out.println("gpu" + i + " uuid=" + gpu.uuid() + " agentBytesAfterClose=" + gpu.bytesAllocated());
            }
        }
    }

    interface PerGpu<T> {
        T run(int gpu) throws Exception;
    }

    static <T> List<T> parallel(ExecutorService pool, int n, PerGpu<T> task) throws Exception {
        List<Future<T>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int gpu = i;
            futures.add(pool.submit(() -> task.run(gpu)));
        }
        List<T> results = new ArrayList<>();
        for (Future<T> f : futures) {
            results.add(f.get());
        }
        return results;
    }
}
