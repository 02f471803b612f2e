package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executor while no data plane is wired in: accepts every update and never reports, so updates wait in
 * phase Pending with {@code Progressing=True, reason WaitingForDataPlane}.
 */
public final class WaitingUpdateExecutor implements UpdateExecutor {

    private static final Logger LOG = LoggerFactory.getLogger(WaitingUpdateExecutor.class);

    @Override
    public Execution start(WeightUpdate update, List<Target> targets, ExecutionListener listener) {
        LOG.info("no data plane configured: update waits targets={}", targets.size());
        return reason -> LOG.info("cancelled waiting update reason={}", reason);
    }
}
