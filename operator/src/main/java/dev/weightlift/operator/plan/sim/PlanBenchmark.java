package dev.weightlift.operator.plan.sim;

import dev.weightlift.operator.plan.Bandwidths;
import dev.weightlift.operator.plan.Holding;
import dev.weightlift.operator.plan.LoadAssignment;
import dev.weightlift.operator.plan.LoadPlanner;
import dev.weightlift.operator.plan.LoadRequest;
import dev.weightlift.operator.plan.Mode;
import dev.weightlift.operator.plan.Participant;
import dev.weightlift.operator.plan.Plan;
import dev.weightlift.operator.plan.PlanRequest;
import dev.weightlift.operator.plan.Planner;
import dev.weightlift.operator.plan.ReceiverStrategy;
import dev.weightlift.operator.plan.SizingPolicy;
import dev.weightlift.operator.plan.TensorMeta;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Times the planner on a 100k-tensor, 1 TB checkpoint over 256 GPUs (32 nodes x 8, 8 NICs each):
 * load assignment plus broadcast plan, and a P2P plan into 16 of them. Each phase runs WARMUP times
 * for the JIT, then RUNS measured times; the figure is the median. The last line is {@code plan_ms=T}
 * (load assignment + broadcast plan, what the operator does before an update starts).
 */
public final class PlanBenchmark {

    private static final int WARMUP = 30;
    private static final int RUNS = 15;

    private PlanBenchmark() {
    }

    public static void main(String[] args) {
        FleetSpec.ModelSpec model = new FleetSpec.ModelSpec("1 TB, 100k tensors", 1_000_000_000_000L, 100_000,
                2_348_810_240L, 0.49, null);
        FleetSpec fleet = new FleetSpec("256 GPUs", 32, 8, 8, 30, 0.9, null, 16, 0, 0, 0, null, model,
                Bandwidths.h200(), null);
        List<Participant> gpus = FleetSimulator.gpus(fleet);
        List<TensorMeta> tensors = FleetSimulator.tensors(model);

        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[] cpu = new double[RUNS];
        double[] load = new double[RUNS];
        double[] broadcast = new double[RUNS];
        double[] p2p = new double[RUNS];
        Plan last = null;
        Plan lastP2p = null;
        for (int i = -WARMUP; i < RUNS; i++) {
            long c0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            LoadAssignment assignment = LoadPlanner.assign(
                    new LoadRequest(tensors, gpus, null, LoadRequest.Granularity.TENSOR));
            long t1 = System.nanoTime();
            List<Holding> holdings = new ArrayList<>(gpus.size());
            for (int g = 0; g < gpus.size(); g++) {
                holdings.add(new Holding(gpus.get(g), assignment.owners().get(g).tensors()));
            }
            long t2 = System.nanoTime();
            last = Planner.plan(PlanRequest.broadcast("bench", holdings));
            long t3 = System.nanoTime();
            long c3 = threads.getCurrentThreadCpuTime();
            lastP2p = Planner.plan(new PlanRequest("bench", Mode.P2P, holdings, gpus.subList(0, 16),
                    SizingPolicy.defaults(), null, ReceiverStrategy.WEIGHTLIFT, Bandwidths.h200()));
            long t4 = System.nanoTime();
            if (i >= 0) {
                load[i] = (t1 - t0) / 1e6;
                broadcast[i] = (t3 - t2) / 1e6;
                p2p[i] = (t4 - t3) / 1e6;
                cpu[i] = (c3 - c0) / 1e6;
            }
        }
        System.out.println(last.summary());
        System.out.println(lastP2p.summary());
        System.out.printf(Locale.ROOT, "after %d warm-up runs, median (min) of %d: load assignment %.1f ms (%.1f),"
                        + " broadcast plan %.1f ms (%.1f), P2P plan into 16 GPUs %.1f ms (%.1f)%n", WARMUP, RUNS,
                median(load), min(load), median(broadcast), min(broadcast), median(p2p), min(p2p));
        double[] total = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            total[i] = load[i] + broadcast[i];
        }
        System.out.printf(Locale.ROOT, "load assignment + broadcast plan: wall %.1f ms median (%.1f min), CPU time of"
                + " the planning thread %.1f ms median; load average %s%n", median(total), min(total), median(cpu),
                loadAverage());
        System.out.printf(Locale.ROOT, "checkpoint-engine's gather_metas alone: 800-1330 ms (README table)%n");
        System.out.printf(Locale.ROOT, "plan_ms=%.1f%n", median(total));
    }

    /** Other processes on a shared machine slow the wall-clock figure; the load average says how much. */
    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElse(0);
    }
}
