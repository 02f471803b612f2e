package dev.weightlift.operator.plan;

import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * A complete, immutable update plan: what to load where, in which buckets, in which order, and what it
 * should cost. Jackson-serializable as it is; {@link #summary()} is the human view.
 *
 * @param checkpoint  checkpoint name and version
 * @param mode        broadcast or P2P
 * @param tensors     number of tensors delivered to every target
 * @param totalBytes  raw bytes delivered to every target
 * @param sizing      bucket size and GPU buffer layout
 * @param owners      participant ids of the owners, in plan order
 * @param targets     participant ids of the targets (every one receives every bucket), in plan order
 * @param buckets     all buckets, owner by owner
 * @param schedule    the steps in execution order
 * @param traffic     bytes per link
 * @param prediction  expected times under the request's bandwidths
 */
public record Plan(String checkpoint, Mode mode, int tensors, long totalBytes, BucketSizing sizing,
                   List<String> owners, List<String> targets, List<Bucket> buckets, List<Transfer> schedule,
                   Traffic traffic, Prediction prediction) {

    public Plan {
        owners = List.copyOf(owners);
        targets = List.copyOf(targets);
        buckets = List.copyOf(buckets);
        schedule = List.copyOf(schedule);
    }

    public int rounds() {
        return schedule.isEmpty() ? 0 : schedule.get(schedule.size() - 1).round() + 1;
    }

    @Override
    public String toString() {
        return summary();
    }

    /** A few lines for logs, events and the simulator. */
    public String summary() {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "plan %s %s: %d tensors, %s to each of %d targets from %d owners%n",
                checkpoint, mode, tensors, gib(totalBytes), targets.size(), owners.size()));
        s.append(String.format(Locale.ROOT,
                "buckets: %d x <= %s (%s, limited by %s), %d rounds; GPU memory per target %s of %s usable on %s%n",
                buckets.size(), gib(sizing.bucketBytes()), sizing.layout(), sizing.limitedBy(), rounds(),
                gib(sizing.gpuBytesPerGpu()), gib(sizing.usableFreeBytes()), sizing.tightestGpu()));
        s.append(String.format(Locale.ROOT, "largest unit: %s, %s%n", sizing.largestUnit(),
                gib(sizing.largestUnitBytes())));
        s.append(String.format(Locale.ROOT, "load per GPU: %s; broadcast to each target: %s%n",
                range(traffic.loadBytes().values()), gib(traffic.broadcastBytesPerTarget())));
        if (mode == Mode.P2P) {
            s.append(String.format(Locale.ROOT, "P2P: %d sender links %s, %d receiver links %s%n",
                    traffic.senderLinkBytes().size(), range(traffic.senderLinkBytes().values()),
                    traffic.receiverLinkBytes().size(), range(traffic.receiverLinkBytes().values())));
        }
        Prediction p = prediction;
        s.append(String.format(Locale.ROOT,
                "stages: load %.2f s, broadcast %.2f s, reload %.2f s; bound %.2f s%n",
                p.loadSeconds(), p.broadcastSeconds(), p.reloadSeconds(), p.boundSeconds()));
        s.append(String.format(Locale.ROOT,
                "predicted: serial %.2f s, two-stage (checkpoint-engine) %.2f s (%.2f of bound), three-stage %.2f s"
                        + " (%.2f of bound)",
                p.serialSeconds(), p.twoStageSeconds(), p.boundSeconds() / p.twoStageSeconds(), p.threeStageSeconds(),
                p.efficiency()));
        return s.toString();
    }

    static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) SizingPolicy.GIB);
    }

    private static String range(Collection<Long> values) {
        long min = values.stream().mapToLong(Long::longValue).min().orElse(0);
        long max = values.stream().mapToLong(Long::longValue).max().orElse(0);
        return min == max ? gib(max) : gib(min) + ".." + gib(max);
    }
}
