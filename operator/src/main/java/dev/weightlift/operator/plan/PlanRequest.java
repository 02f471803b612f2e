package dev.weightlift.operator.plan;

import java.util.List;
import java.util.Objects;

/**
 * Everything the planner needs for one update.
 *
 * @param checkpoint      checkpoint name and version, carried into the plan
 * @param mode            broadcast or P2P
 * @param holdings        what every owner GPU holds (in broadcast mode the owners must be targets)
 * @param targets         the GPUs that must receive every tensor
 * @param sizing          bucket sizing policy (the CR's bucketSize and memoryFraction go here)
 * @param groupingPattern the CR's {@code spec.grouping.pattern}, or null
 * @param receivers       P2P receiver assignment strategy
 * @param bandwidths      link speeds for the plan's time estimate
 */
public record PlanRequest(String checkpoint, Mode mode, List<Holding> holdings, List<Participant> targets,
                          SizingPolicy sizing, String groupingPattern, ReceiverStrategy receivers,
                          Bandwidths bandwidths) {

    public PlanRequest {
        Objects.requireNonNull(checkpoint, "checkpoint");
        Objects.requireNonNull(mode, "mode");
        holdings = List.copyOf(Objects.requireNonNull(holdings, "holdings"));
        targets = List.copyOf(Objects.requireNonNull(targets, "targets"));
        Objects.requireNonNull(sizing, "sizing");
        Objects.requireNonNull(receivers, "receivers");
        Objects.requireNonNull(bandwidths, "bandwidths");
    }

    /** Broadcast to the owners themselves with default sizing and H200 bandwidths. */
    public static PlanRequest broadcast(String checkpoint, List<Holding> holdings) {
        return new PlanRequest(checkpoint, Mode.BROADCAST, holdings,
                holdings.stream().map(Holding::owner).toList(), SizingPolicy.defaults(), null,
                ReceiverStrategy.WEIGHTLIFT, Bandwidths.h200());
    }

    public PlanRequest withSizing(SizingPolicy policy) {
        return new PlanRequest(checkpoint, mode, holdings, targets, policy, groupingPattern, receivers, bandwidths);
    }

    public PlanRequest withGrouping(String pattern) {
        return new PlanRequest(checkpoint, mode, holdings, targets, sizing, pattern, receivers, bandwidths);
    }

    public PlanRequest withReceivers(ReceiverStrategy strategy) {
        return new PlanRequest(checkpoint, mode, holdings, targets, sizing, groupingPattern, strategy, bandwidths);
    }

    public PlanRequest withBandwidths(Bandwidths links) {
        return new PlanRequest(checkpoint, mode, holdings, targets, sizing, groupingPattern, receivers, links);
    }
}
