package dev.weightlift.operator.testing;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionListener;
import dev.weightlift.operator.reconciler.weightupdate.Target;
import dev.weightlift.operator.reconciler.weightupdate.UpdateExecutor;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** An executor the test drives: it records each start and lets the test report progress and the end. */
public final class FakeExecutor implements UpdateExecutor {

    /** One started execution, by update name. */
    public static final class Started {
        public final List<Target> targets;
        public final ExecutionListener listener;
        public volatile String cancelled;

        Started(List<Target> targets, ExecutionListener listener) {
            this.targets = targets;
            this.listener = listener;
        }
    }

    private final Map<String, Started> started = new ConcurrentHashMap<>();

    @Override
    public Execution start(WeightUpdate update, List<Target> targets, ExecutionListener listener) {
        Started s = new Started(targets, listener);
        started.put(update.getMetadata().getNamespace() + "/" + update.getMetadata().getName(), s);
        return reason -> s.cancelled = reason;
    }

    public Started started(String namespace, String name) {
        return started.get(namespace + "/" + name);
    }
}
