package dev.weightlift.agent.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.NativeMemory;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
import dev.weightlift.agent.engine.nativeprotocol.ChannelServerConfig;
import dev.weightlift.agent.engine.nativeprotocol.EngineChannelServer;
import dev.weightlift.agent.engine.nativeprotocol.NativeConnector;
import dev.weightlift.agent.engine.trigger.VllmNativeTrigger;
import dev.weightlift.agent.store.HostStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Host-backend pipeline throughput, from the host store (a generated safetensors file loaded into pinned
 * memory) into a real engine process (Python, torch model on the CPU, one worker), next to the bound: one
 * memcpy of the same bytes between two warm host buffers, measured right before every update so that each
 * ratio pairs figures taken under the same load. Schedules, interleaved round by round: the engine reads the
 * host store in place (one copy per byte, the engine's load) with read-ahead (overlap on) or without (overlap
 * off), and with verify Checksum (a CRC-32 per bucket that the engine checks before it loads); then the bytes
 * copied into the shared buffer first (two copies per byte): overlap on, with a staging buffer, overlap off
 * (checkpoint-engine's schedule).
 * Run by agent/bench/pipeline.sh; prints {@code ratio=R} (median paired ratio of "overlap on") last.
 *
 * <p>Arguments (all optional): {@code hidden vocab layers slotMiB rounds}.
 */
public final class PipelineBenchmark {

    private static final String CHECKSUMS = "overlap on, verify Checksum";
    private static final String COPIED = "copied";
    private static final String NEW_VERSIONS = "overlap on, a new version every update";

    private PipelineBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int hidden = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
        int vocab = args.length > 1 ? Integer.parseInt(args[1]) : 4096;
        int layers = args.length > 2 ? Integer.parseInt(args[2]) : 28;
        // 64 MiB: the planner's floor (SizingPolicy.minBucketBytes), so what it gives a checkpoint this small.
        long slot = (args.length > 3 ? Long.parseLong(args[3]) : 64) << 20;
        int runs = args.length > 4 ? Integer.parseInt(args[4]) : 7;

        Path dir = Files.createTempDirectory("weightlift-bench");
        HostBackendConfig config = new HostBackendConfig("bench", 1, 8L << 30, 8L << 30, HostBackendConfig.DEFAULT_SHM_DIR,
                Duration.ofMinutes(5));
        try (HostBackend backend = new HostBackend(config);
                HostStore store = new HostStore(backend.hostAllocator());
                EngineChannelServer server = EngineChannelServer.start(ChannelServerConfig.unixSocket(dir))) {
            Gpu gpu = backend.gpus().get(0);
            try (TestEngine engine = TestEngine.start(List.of(gpu.uuid()), dir, "--hidden", String.valueOf(hidden),
                    "--vocab", String.valueOf(vocab), "--layers", String.valueOf(layers));
                    GeneratedCheckpoint checkpoint = GeneratedCheckpoint.generate(engine.rpc("describe_parameters").get(0),
                            store, dir, "bench", 1)) {
                JsonNode parameters = engine.rpc("describe_parameters").get(0);
                GeneratedCheckpoint[] next = new GeneratedCheckpoint[1];
                List<PipelineBucket> buckets = checkpoint.buckets(slot, false);
                List<PipelineBucket> verified = checkpoint.buckets(slot, true);
                long bytes = buckets.stream().mapToLong(PipelineBucket::bytes).sum();
                System.out.printf(Locale.ROOT, "checkpoint: %d tensors, %.1f MiB in %d buckets of at most %d MiB; %d rounds of every schedule after a warm-up round%n",
                        checkpoint.sha256().size(), bytes / 1048576.0, buckets.size(), slot >> 20, runs);
                VllmNativeTrigger trigger = VllmNativeTrigger.at("127.0.0.1", engine.port());
                PipelineOptions base = PipelineOptions.defaults(slot).withRetainedBuffers(true);
                Map<String, PipelineOptions> schedules = new LinkedHashMap<>();
                schedules.put("overlap on", base);
                schedules.put(NEW_VERSIONS, base);
                schedules.put("overlap off", base.withOverlap(false));
                schedules.put(CHECKSUMS, base);
                PipelineOptions copied = base.withInPlace(false);
                schedules.put(COPIED + ", overlap on", copied);
                schedules.put(COPIED + ", staging buffer", copied.withStaging(PipelineOptions.Staging.ALWAYS));
                schedules.put(COPIED + ", overlap off (checkpoint-engine)", copied.withOverlap(false));
                Map<String, List<double[]>> measured = new LinkedHashMap<>();
                // A node pipeline (and so a buffer cache) per schedule: interleaved schedules must not warm or
                // free each other's buffers.
                Map<String, NodePipeline> pipelines = new LinkedHashMap<>();
                schedules.keySet().forEach(k -> pipelines.put(k, new NodePipeline(PipelineMetrics.unregistered())));
                try (MemoryRegion target = backend.hostAllocator().allocatePinned(checkpoint.region().size())) {
                    for (int round = 0; round <= runs; round++) {
                        for (Map.Entry<String, PipelineOptions> schedule : schedules.entrySet()) {
                            List<PipelineBucket> sent = schedule.getKey().equals(CHECKSUMS) ? verified : buckets;
                            if (schedule.getKey().equals(NEW_VERSIONS)) {
                                // As a trainer's loop: the previous version goes, the next is loaded (into the
                                // store's pooled files), then the update.
                                if (next[0] != null) {
                                    next[0].close();
                                }
                                next[0] = GeneratedCheckpoint.generate(parameters, store, dir, "next-" + round, 100 + round);
                                sent = next[0].buckets(slot, false);
                            }
                            double bound = memcpy(checkpoint.region(), target);
                            double twoThreads = memcpyOnTwoThreads(checkpoint.region(), target);
                            String version = "r" + round + "-" + schedule.getKey().replaceAll("[^a-z]+", "-");
                            InstanceUpdate update = new InstanceUpdate(new NativeConnector(server), pipelines.get(schedule.getKey()));
                            PipelineResult r = update.run("bench/" + version, version, trigger,
                                    List.of(new InstanceUpdate.GpuPart(gpu, null, sent)), schedule.getValue(),
                                    Duration.ofMinutes(5)).get(0);
                            System.out.printf(Locale.ROOT, "  %-40s round %d: %5.2f GB/s, bound %5.2f GB/s, ratio %.2f;"
                                    + " waits ms: setup %d, stage %d, publish %d, load %d, finish %d%s%n", schedule.getKey(),
                                    round, r.bytesPerSecond() / 1e9, bound / 1e9, r.bytesPerSecond() / bound,
                                    r.setup().toMillis(), r.stageWait().toMillis(), r.publishWait().toMillis(),
                                    r.ackWait().toMillis(), r.finish().toMillis(), round == 0 ? " (warm-up)" : "");
                            if (round > 0) {
                                measured.computeIfAbsent(schedule.getKey(), k -> new ArrayList<>())
                                        .add(new double[] {r.bytesPerSecond(), bound, twoThreads, r.ackWait().toMillis()});
                            }
                        }
                    }
                } finally {
                    pipelines.values().forEach(NodePipeline::close);
                    if (next[0] != null) {
                        next[0].close();
                    }
                }
                for (Map.Entry<String, List<double[]>> m : measured.entrySet()) {
                    System.out.printf(Locale.ROOT, "%-40s median %5.2f GB/s (best %5.2f), median of paired ratios %.2f%n",
                            m.getKey(), median(m.getValue().stream().mapToDouble(x -> x[0]).toArray()) / 1e9,
                            m.getValue().stream().mapToDouble(x -> x[0]).max().orElse(0) / 1e9,
                            median(m.getValue().stream().mapToDouble(x -> x[0] / x[1]).toArray()));
                }
                List<double[]> all = measured.values().stream().flatMap(List::stream).toList();
                System.out.printf(Locale.ROOT, "bound (memcpy of the same bytes, one thread): median %.2f GB/s%n",
                        median(all.stream().mapToDouble(x -> x[1]).toArray()) / 1e9);
                System.out.printf(Locale.ROOT, "memory check: two threads copying halves at once: median %.2f GB/s in all;"
                        + " a schedule that copies every byte twice (into the shared buffer, then the engine's load) is"
                        + " capped at half of that, %.2f of the bound%n", median(all.stream().mapToDouble(x -> x[2]).toArray()) / 1e9,
                        median(all.stream().mapToDouble(x -> x[2] / 2 / x[1]).toArray()));
                List<double[]> plain = measured.get("overlap on");
                List<double[]> checked = measured.get(CHECKSUMS);
                double[] perRound = new double[plain.size()];
                for (int i = 0; i < perRound.length; i++) {
                    perRound[i] = checked.get(i)[0] / plain.get(i)[0];
                }
                System.out.printf(Locale.ROOT, "checksum cost: throughput with verify Checksum / without, same round:"
                        + " median %.2f; time waiting for the engine's loads: median %.0f ms with, %.0f ms without;"
                        + " the agent's CRC-32 of the same bytes (java.util.zip.CRC32, one thread, not part of the"
                        + " update: the crc travels with the bucket) runs at median %.2f GB/s%n", median(perRound),
                        median(checked.stream().mapToDouble(x -> x[3]).toArray()),
                        median(plain.stream().mapToDouble(x -> x[3]).toArray()), crc32(checkpoint.region(), runs) / 1e9);
                double ratio = median(measured.get("overlap on").stream().mapToDouble(x -> x[0] / x[1]).toArray());
                System.out.printf(Locale.ROOT, "%s reaches %.2f of the two-copy cap (median of paired ratios)%n",
                        COPIED + ", overlap on", median(measured.get(COPIED + ", overlap on").stream()
                                .mapToDouble(x -> x[0] / (x[2] / 2)).toArray()));
                System.out.printf(Locale.ROOT, "ratio=%.2f%n", ratio);
            }
        }
    }

    /** The median over {@code runs} of one CRC-32 over the whole checkpoint, in bytes per second. */
    private static double crc32(MemoryRegion source, int runs) {
        double[] rates = new double[Math.max(1, runs)];
        for (int i = 0; i < rates.length; i++) {
            CRC32 crc = new CRC32();
            long start = System.nanoTime();
            for (long offset = 0; offset < source.size(); offset += 1 << 30) {
                crc.update(source.view(offset, (int) Math.min(1 << 30, source.size() - offset)));
            }
            rates[i] = source.size() / ((System.nanoTime() - start) / 1e9);
        }
        return median(rates);
    }

    /** One memcpy of the whole checkpoint between two warm buffers, in bytes per second. */
    private static double memcpy(MemoryRegion source, MemoryRegion target) {
        long start = System.nanoTime();
        NativeMemory.copy(source.address(), target.address(), source.size());
        return source.size() / ((System.nanoTime() - start) / 1e9);
    }

    /** The same copy split over two threads at once, in bytes per second: what the memory system gives two copies. */
    private static double memcpyOnTwoThreads(MemoryRegion source, MemoryRegion target) throws InterruptedException {
        long half = source.size() / 2;
        Thread second = new Thread(() -> NativeMemory.copy(source.address() + half, target.address() + half,
                source.size() - half));
        long start = System.nanoTime();
        second.start();
        NativeMemory.copy(source.address(), target.address(), half);
        second.join();
        return source.size() / ((System.nanoTime() - start) / 1e9);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n == 0 ? 0 : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
