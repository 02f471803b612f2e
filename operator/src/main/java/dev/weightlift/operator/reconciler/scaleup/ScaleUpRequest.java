package dev.weightlift.operator.reconciler.scaleup;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.reconciler.weightupdate.Target;
import java.util.List;
import java.util.Objects;

/**
 * One scale-up: the version of {@code update} into the engine of {@code target}.
 *
 * @param update the update, a snapshot (do not mutate): checkpoint name, version and source, engine, deadline
 * @param target the new pod, with its node (whose agent receives) and the GPUs its agent reported
 * @param holders the nodes whose agents report holding the version in host memory, sorted; each may hold only
 *        its share of the checkpoint's files (what it loaded for the Broadcast): the executor plans the reads
 *        from what they hold and loads whatever none of them holds from {@code spec.checkpoint.source}
 */
public record ScaleUpRequest(WeightUpdate update, Target target, List<String> holders) {

    public ScaleUpRequest {
        Objects.requireNonNull(update, "update");
        Objects.requireNonNull(target, "target");
        holders = List.copyOf(holders);
    }

    /**
     * True when no node holds the version any more (e.g. the whole fleet restarted): the agent on the target's
     * node loads the checkpoint from {@code spec.checkpoint.source} and pushes it into the engine.
     */
    public boolean fromSource() {
        return holders.isEmpty();
    }

    /** The version being filled in. */
    public String version() {
        return update.getSpec().getCheckpoint().getVersion();
    }
}
