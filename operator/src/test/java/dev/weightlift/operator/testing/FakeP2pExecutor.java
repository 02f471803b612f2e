package dev.weightlift.operator.testing;

import dev.weightlift.operator.reconciler.scaleup.P2pExecutor;
import dev.weightlift.operator.reconciler.scaleup.ScaleUpRequest;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionListener;
import dev.weightlift.operator.reconciler.weightupdate.UpdateExecutor;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** A scale-up executor the test drives: it records each start by pod and lets the test report the end. */
public final class FakeP2pExecutor implements P2pExecutor {

    /** One started scale-up. */
    public static final class Started {
        public final ScaleUpRequest request;
        public final ExecutionListener listener;
        public volatile String cancelled;

        Started(ScaleUpRequest request, ExecutionListener listener) {
            this.request = request;
            this.listener = listener;
        }
    }

    private final Map<String, List<Started>> started = new ConcurrentHashMap<>();

    @Override
    public UpdateExecutor.Execution start(ScaleUpRequest request, ExecutionListener listener) {
        Started s = new Started(request, listener);
        started.computeIfAbsent(request.target().namespace() + "/" + request.target().pod(), k -> new CopyOnWriteArrayList<>()).add(s);
        return reason -> s.cancelled = reason;
    }

    /** Every scale-up started into the pod, oldest first. */
    public List<Started> started(String namespace, String pod) {
        return started.getOrDefault(namespace + "/" + pod, List.of());
    }

    /** The latest scale-up started into the pod, or null. */
    public Started latest(String namespace, String pod) {
        List<Started> all = started(namespace, pod);
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }
}
