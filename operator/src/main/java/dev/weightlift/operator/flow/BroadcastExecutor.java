package dev.weightlift.operator.flow;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.hub.AgentHub;
import dev.weightlift.operator.hub.UpdateListener;
import dev.weightlift.operator.reconciler.scaleup.P2pExecutor;
import dev.weightlift.operator.reconciler.scaleup.ScaleUpRequest;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionListener;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionResult;
import dev.weightlift.operator.reconciler.weightupdate.Target;
import dev.weightlift.operator.reconciler.weightupdate.UpdateExecutor;
import dev.weightlift.protocol.UpdateProgress;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The data plane behind the reconciler: every update runs as a {@link BroadcastRun} on its own thread,
 * driving the agents through the hub. Agent progress reaches the run of its update id.
 */
public final class BroadcastExecutor implements UpdateExecutor, P2pExecutor, AutoCloseable {

    /** Deadlines inside an update; the whole update is bounded by {@code spec.timeoutSeconds}. */
    public record Deadlines(Duration request, Duration engineConnect, Duration step, Duration abort, Duration progressInterval) {
        public static Deadlines defaults() {
            return new Deadlines(Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(120), Duration.ofSeconds(30),
                    Duration.ofSeconds(1));
        }
    }

    private final Supplier<AgentHub> hub;
    private final Deadlines deadlines;
    private final FlowMetrics metrics;
    private final EngineLeases leases = new EngineLeases();
    private final Map<String, BroadcastRun> runs = new ConcurrentHashMap<>();
    private final AtomicInteger threads = new AtomicInteger();
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "broadcast-" + threads.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    /**
     * {@code hub}: the hub while this replica leads, null otherwise (only the leader binds it); register
     * {@link #progressListener()} on every hub it returns.
     */
    public BroadcastExecutor(Supplier<AgentHub> hub, Deadlines deadlines, MeterRegistry registry) {
        this.hub = hub;
        this.deadlines = deadlines;
        this.metrics = new FlowMetrics(registry);
    }

    /** Routes agents' progress reports to the run of their update. */
    public UpdateListener progressListener() {
        return new UpdateListener() {
            @Override
            public void onProgress(String node, String requestId, UpdateProgress progress) {
                BroadcastRun run = runs.get(progress.updateId());
                if (run != null) {
                    run.agentProgress(node, progress);
                }
            }
        };
    }

    @Override
    public Execution start(WeightUpdate update, List<Target> targets, ExecutionListener listener) {
        AgentHub current = hub.get();
        if (current == null) {
            listener.finished(ExecutionResult.failed("NotLeading", "this operator replica does not lead, so it has no agent hub", Map.of()));
            return reason -> { };
        }
        return submit(new BroadcastRun(update, targets, listener, current, leases, deadlines, metrics));
    }

    /**
     * Fills one pod that joined later, under the same engine leases as the Broadcasts: P2P reads from the
     * holders' host memory into the host store of the pod's node ({@link P2pFill}) and a load from the source
     * there of whatever no holder has (everything, without holders); then the ordinary pipeline into the pod's
     * engine only.
     */
    @Override
    public Execution start(ScaleUpRequest request, ExecutionListener listener) {
        AgentHub current = hub.get();
        Target target = request.target();
        if (current == null) {
            String message = "this operator replica does not lead, so it has no agent hub";
            listener.finished(ExecutionResult.failed("NotLeading", message, Map.of(target.pod(), message)));
            return reason -> { };
        }
        String id = BroadcastRun.updateId(request.update()) + "/scale-up/" + target.pod();
        P2pFill fill = new P2pFill(current, request.update(), request.holders());
        return submit(new BroadcastRun(id, request.update(), List.of(target), listener, current, leases, deadlines, metrics, fill));
    }

    private Execution submit(BroadcastRun run) {
        BroadcastRun previous = runs.put(run.id(), run);
        if (previous != null) {
            previous.cancel("restarted");
        }
        pool.submit(() -> {
            try {
                run.execute();
            } finally {
                runs.remove(run.id(), run);
            }
        });
        return run::cancel;
    }

    @Override
    public void close() {
        runs.values().forEach(r -> r.cancel("operator shutting down"));
        pool.shutdown();
    }
}
