package dev.weightlift.operator.reconciler.scaleup;

import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.ops.UpdateMetrics;
import dev.weightlift.operator.reconciler.scaleup.ScaleUpRules.Decision;
import dev.weightlift.operator.reconciler.weightupdate.AgentDirectory;
import dev.weightlift.operator.reconciler.weightupdate.AgentInfo;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionListener;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionProgress;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionResult;
import dev.weightlift.operator.reconciler.weightupdate.HeldVersion;
import dev.weightlift.operator.reconciler.weightupdate.PodMarker;
import dev.weightlift.operator.reconciler.weightupdate.Target;
import dev.weightlift.operator.reconciler.weightupdate.TargetResolver;
import dev.weightlift.operator.reconciler.weightupdate.WeightUpdateReconciler;
import dev.weightlift.operator.reconciler.weightupdate.UpdateExecutor;
import dev.weightlift.operator.status.ConditionFactory;
import dev.weightlift.operator.status.EventRecorder;
import dev.weightlift.operator.status.StatusWriter;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fills pods that join a succeeded update: finds them ({@link ScaleUpRules}), waits for their engine
 * ({@link EngineProbe}), starts one {@link P2pExecutor} execution per pod (at most one per pod at a time, across
 * all updates), marks the pod when it ends, and keeps the update's status and Events current. Called by the
 * update's reconciler (never concurrently for one update); executions report from any thread and wake it.
 *
 * <p>A failed scale-up is tried again after {@link ScaleUpConfig#retryAfter}; the update stays Succeeded and
 * Ready. A paused update starts no scale-up (those in flight go on). In-flight scale-ups live in memory only: after an operator restart the pods still lack the version and
 * are started again.
 */
public final class ScaleUps {

    /** How soon an update with scale-ups in flight is looked at again without any event. */
    static final Duration RESCHEDULE = Duration.ofSeconds(15);

    private static final Logger LOG = LoggerFactory.getLogger(ScaleUps.class);

    private final ScaleUpConfig config;
    private final AgentDirectory agents;
    private final PodMarker podMarker;
    private final StatusWriter statusWriter;
    private final ScaleUpStatus statusFactory;
    private final EventRecorder events;
    private final UpdateMetrics metrics;
    private final Clock clock;
    private final Consumer<ResourceID> wake;
    /** In-flight scale-ups by pod ({@code namespace/name}). */
    private final Map<String, Run> runs = new ConcurrentHashMap<>();
    /** Failed scale-ups waiting for their next attempt, by update, then pod UID. */
    private final Map<ResourceID, Map<String, Failure>> failures = new ConcurrentHashMap<>();
    /** The status entries of pods filled by scale-up (saying how), by update, then pod UID. */
    private final Map<ResourceID, Map<String, PodResult>> filled = new ConcurrentHashMap<>();

    private record Failure(int attempts, Instant retryAt, String message) {
    }

    /** One scale-up of one pod: the listener of its execution. */
    private final class Run implements ExecutionListener {
        final ResourceID update;
        final String updateName;
        final ScaleUpRequest request;
        final Instant startedAt;
        final Instant deadline;
        volatile UpdateExecutor.Execution execution;
        volatile ExecutionResult result;
        private long bytesCounted;

        Run(ResourceID update, ScaleUpRequest request, Instant startedAt, int timeoutSeconds) {
            this.update = update;
            this.updateName = update.getName();
            this.request = request;
            this.startedAt = startedAt;
            this.deadline = startedAt.plusSeconds(timeoutSeconds);
        }

        String pod() {
            return request.target().pod();
        }

        String key() {
            return request.target().namespace() + "/" + request.target().pod();
        }

        /** How the pod is to be filled, e.g. {@code by P2P from nodes a, b} (the executor's result says how it was). */
        String how() {
            List<String> others = request.holders().stream().filter(n -> !n.equals(request.target().node())).toList();
            return others.isEmpty()
                    ? "from the checkpoint source " + request.update().getSpec().getCheckpoint().getSource().getPath()
                            + (request.fromSource() ? " (no node holds version " + request.version() + " any more)"
                                    : " (no other node holds version " + request.version() + ")")
                    : "by P2P from node" + (others.size() == 1 ? " " : "s ") + String.join(", ", others);
        }

        @Override
        public synchronized void progress(ExecutionProgress progress) {
            if (runs.get(key()) == this && result == null) {
                count(progress.bytesDone());
            }
        }

        /** Counts the bytes moved so far into the metrics, once each. */
        synchronized void count(long bytesDone) {
            metrics.bytesMoved(bytesDone - bytesCounted);
            bytesCounted = Math.max(bytesCounted, bytesDone);
        }

        @Override
        public void finished(ExecutionResult ending) {
            synchronized (this) {
                if (result != null) {
                    return;
                }
                result = ending;
            }
            if (runs.get(key()) == this) {
                wake.accept(update);
            }
        }

        void cancel(String reason) {
            runs.remove(key(), this);
            UpdateExecutor.Execution running = execution;
            if (running != null) {
                running.cancel(reason);
            }
            LOG.info("scale-up cancelled update={} pod={} reason={}", updateName, pod(), reason);
        }
    }

    public ScaleUps(ScaleUpConfig config, AgentDirectory agents, PodMarker podMarker, StatusWriter statusWriter, EventRecorder events,
            UpdateMetrics metrics, Clock clock, Consumer<ResourceID> wake) {
        this.config = config;
        this.agents = agents;
        this.podMarker = podMarker;
        this.statusWriter = statusWriter;
        this.statusFactory = new ScaleUpStatus(new ConditionFactory(clock));
        this.events = events;
        this.metrics = metrics;
        this.clock = clock;
        this.wake = wake;
    }

    /**
     * Brings the scale-ups of {@code update} forward: ends those of pods that went, records those that
     * finished, starts those that are due, and writes the status. Does nothing but cancel when the update fills
     * no late joiner now ({@link ScaleUpRules#ineligible}).
     *
     * @param selected the pods the update's selector matches now
     * @param peers the updates of the update's namespace
     */
    public UpdateControl<WeightUpdate> reconcile(WeightUpdate update, List<Pod> selected, Collection<WeightUpdate> peers) {
        ResourceID id = ResourceID.fromResource(update);
        Optional<String> ineligible = ScaleUpRules.ineligible(update);
        if (ineligible.isPresent()) {
            cancel(id, ineligible.get());
            return UpdateControl.noUpdate();
        }
        Instant now = clock.instant();
        List<Decision> decisions = ScaleUpRules.decide(update, selected, peers);
        Map<String, Decision> byName = decisions.stream().collect(Collectors.toMap(Decision::name, d -> d));
        Map<String, Failure> failed = failures.computeIfAbsent(id, k -> new ConcurrentHashMap<>());
        Map<String, PodResult> fills = filled.computeIfAbsent(id, k -> new ConcurrentHashMap<>());
        Set<String> uids = selected.stream().map(p -> p.getMetadata().getUid()).collect(Collectors.toSet());
        failed.keySet().retainAll(uids);
        fills.keySet().retainAll(uids);

        Map<String, PodResult> ended = new HashMap<>();
        for (Run run : runsOf(id)) {
            Decision decision = byName.get(run.pod());
            Optional<String> gone = gone(run, decision);
            if (gone.isPresent()) {
                run.cancel(gone.get());
                events.normal(update, "ScaleUpCancelled", "pod " + run.pod() + ": " + gone.get());
                continue;
            }
            if (run.result == null && !now.isBefore(run.deadline)) {
                run.finished(ExecutionResult.failed("Timeout", "the scale-up did not finish within spec.timeoutSeconds="
                        + timeoutSeconds(update), Map.of()));
                run.execution.cancel("deadline passed");
            }
            if (run.result != null) {
                ended.put(run.pod(), ended(update, run, failed, fills, now));
                runs.remove(run.key(), run);
            }
        }

        NextLook schedule = new NextLook(now, clock);
        List<PodResult> pods = new ArrayList<>();
        String version = update.getSpec().getCheckpoint().getVersion();
        for (Decision decision : decisions) {
            Pod pod = decision.pod();
            String name = decision.name();
            String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
            Run inFlight = runs.get(pod.getMetadata().getNamespace() + "/" + name);
            PodResult entry = ended.get(name);
            if (entry == null && inFlight != null && inFlight.update.equals(id)) {
                entry = ScaleUpStatus.entry(name, node, inFlight.request.target().gpus(), PodResult.State.Updating, null,
                        "filling " + inFlight.how());
            } else if (entry == null) {
                entry = switch (decision.need()) {
                    case HOLDS -> fills.getOrDefault(pod.getMetadata().getUid(),
                            ScaleUpStatus.entry(name, node, List.of(), PodResult.State.Updated, version, null));
                    case TAKEN_OVER -> ScaleUpStatus.entry(name, node, List.of(), PodResult.State.Skipped, null, decision.detail());
                    case NOT_READY -> ScaleUpStatus.entry(name, node, List.of(), PodResult.State.Pending, null,
                            "waiting for the pod: " + decision.detail());
                    case SCALE_UP -> scaleUp(update, id, pod, failed, fills, schedule);
                };
            }
            pods.add(entry);
        }
        Instant check = now.plus(RESCHEDULE);
        runsOf(id).forEach(run -> schedule.at(run.deadline.isBefore(check) ? run.deadline.plusMillis(10) : check));
        statusWriter.write(update, statusFactory.status(update, pods));
        return schedule.control();
    }

    /**
     * The update runs a new generation, failed, was superseded or deleted: its scale-ups stop (the pods get
     * the version the update's own run brings, or none).
     */
    public void cancel(ResourceID update, String reason) {
        runsOf(update).forEach(run -> run.cancel(reason));
        failures.remove(update);
        filled.remove(update);
    }

    /**
     * {@code update} is about to write into {@code selected} itself (a Broadcast): every scale-up into one of
     * them by another update stops, so that no pod takes two updates at once; the other update is woken to
     * record it.
     */
    public void yieldTo(WeightUpdate update, List<Pod> selected) {
        ResourceID id = ResourceID.fromResource(update);
        Set<String> keys = selected.stream().map(p -> p.getMetadata().getNamespace() + "/" + p.getMetadata().getName())
                .collect(Collectors.toSet());
        for (Run run : List.copyOf(runs.values())) {
            if (!run.update.equals(id) && keys.contains(run.key())) {
                run.cancel("the WeightUpdate " + update.getMetadata().getName() + " (version "
                        + update.getSpec().getCheckpoint().getVersion() + ") writes into the pod");
                wake.accept(run.update);
            }
        }
    }

    private List<Run> runsOf(ResourceID update) {
        return runs.values().stream().filter(r -> r.update.equals(update)).toList();
    }

    /** Why an in-flight scale-up must stop because of its pod, or empty. */
    private static Optional<String> gone(Run run, Decision decision) {
        if (decision == null) {
            return Optional.of("the pod was deleted");
        }
        Pod pod = decision.pod();
        if (run.request.target().uid() != null && !run.request.target().uid().equals(pod.getMetadata().getUid())) {
            return Optional.of("the pod was replaced");
        }
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            return Optional.of("the pod is terminating");
        }
        if (decision.need() == ScaleUpRules.Need.TAKEN_OVER) {
            return Optional.of(decision.detail());
        }
        return Optional.empty();
    }

    /** Records a finished scale-up: marks the pod on success, schedules the next attempt on failure. */
    private PodResult ended(WeightUpdate update, Run run, Map<String, Failure> failed, Map<String, PodResult> fills, Instant now) {
        ExecutionResult result = run.result;
        Target target = run.request.target();
        String version = run.request.version();
        Duration took = Duration.between(run.startedAt, now);
        if (result.succeeded()) {
            if (!podMarker.markHolding(target, version)) {
                return ScaleUpStatus.entry(target.pod(), target.node(), target.gpus(), PodResult.State.Pending, null,
                        "the pod was replaced before it could be marked");
            }
            failed.remove(target.uid());
            run.count(result.bytesTotal());
            boolean fromSource = result.arrival() == null ? run.request.fromSource() : result.arrival().fromSource();
            metrics.scaleUpFinished(true, fromSource, took);
            String how = "filled " + (result.arrival() == null ? run.how()
                    : ScaleUpStatus.arrived(result.arrival(), target.node(), update.getSpec().getCheckpoint().getSource().getPath()));
            events.normal(update, "ScaleUpSucceeded", "pod " + target.pod() + " holds version " + version + ", " + how + " in "
                    + took.toMillis() + " ms");
            LOG.info("scale-up succeeded pod={} node={} fromSource={} millis={}: {}", target.pod(), target.node(), fromSource,
                    took.toMillis(), how);
            PodResult entry = ScaleUpStatus.entry(target.pod(), target.node(), target.gpus(), PodResult.State.Updated, version, how);
            fills.put(target.uid(), entry);
            return entry;
        }
        String detail = result.failedPods().getOrDefault(target.pod(), result.message());
        Failure previous = failed.get(target.uid());
        int attempts = previous == null ? 1 : previous.attempts() + 1;
        Instant retryAt = now.plus(config.retryAfter(attempts)).truncatedTo(ChronoUnit.SECONDS);
        String message = result.reason() + ": " + detail + " (attempt " + attempts + ", filling " + run.how() + "; next attempt at "
                + retryAt + ")";
        failed.put(target.uid(), new Failure(attempts, retryAt, message));
        metrics.scaleUpFinished(false, run.request.fromSource(), took);
        events.warning(update, "ScaleUpFailed", "pod " + target.pod() + ": " + result.reason() + ": " + detail);
        LOG.warn("scale-up failed pod={} node={} reason={} attempts={}: {}", target.pod(), target.node(), result.reason(), attempts, detail);
        return ScaleUpStatus.entry(target.pod(), target.node(), target.gpus(), PodResult.State.Failed, null, message);
    }

    /** A pod that lacks the version and has no scale-up of this update in flight: waiting (retry, agent, engine) or started now. */
    private PodResult scaleUp(WeightUpdate update, ResourceID id, Pod pod, Map<String, Failure> failed, Map<String, PodResult> fills,
            NextLook schedule) {
        String namespace = pod.getMetadata().getNamespace();
        String name = pod.getMetadata().getName();
        String uid = pod.getMetadata().getUid();
        String node = pod.getSpec().getNodeName();
        Run current = runs.get(namespace + "/" + name);
        if (current != null) {
            current.cancel("the newer WeightUpdate " + id.getName() + " selects the pod");
            wake.accept(current.update);
        }
        Failure failure = failed.get(uid);
        if (failure != null && schedule.now().isBefore(failure.retryAt())) {
            schedule.at(failure.retryAt());
            return ScaleUpStatus.entry(name, node, List.of(), PodResult.State.Failed, null, failure.message());
        }
        Map<String, String> annotations = update.getMetadata().getAnnotations();
        if (annotations != null && "true".equals(annotations.get(WeightUpdateReconciler.PAUSED_ANNOTATION))) {
            return ScaleUpStatus.entry(name, node, List.of(), PodResult.State.Pending, null,
                    "not filled while the update is paused (annotation " + WeightUpdateReconciler.PAUSED_ANNOTATION + "=true)");
        }
        Optional<AgentInfo> agent = agents.agent(node);
        if (agent.isEmpty()) {
            schedule.at(schedule.now().plus(config.probeInterval()));
            return ScaleUpStatus.entry(name, node, List.of(), PodResult.State.Pending, null,
                    "no Weightlift agent reports from node " + node + ": is the agent DaemonSet running there?");
        }
        Target target = TargetResolver.target(namespace, pod, agent.get());
        String version = update.getSpec().getCheckpoint().getVersion();
        Pod live = podMarker.current(target);
        if (live == null) {
            return ScaleUpStatus.entry(name, node, target.gpus(), PodResult.State.Pending, null, "the pod is gone or was replaced");
        }
        if (version.equals(ScaleUpRules.versionOf(live))) {
            return fills.getOrDefault(uid, ScaleUpStatus.entry(name, node, target.gpus(), PodResult.State.Updated, version, null));
        }
        EngineProbe.Health health = config.probe().probe(target, update.getSpec().getEngine());
        if (!health.up()) {
            schedule.at(schedule.now().plus(config.probeInterval()));
            return ScaleUpStatus.entry(name, node, target.gpus(), PodResult.State.Pending, null, "waiting for the engine: " + health.detail());
        }
        return start(update, id, target, failed, fills);
    }

    private PodResult start(WeightUpdate update, ResourceID id, Target target, Map<String, Failure> failed, Map<String, PodResult> fills) {
        HeldVersion held = new HeldVersion(update.getSpec().getCheckpoint().getName(), update.getSpec().getCheckpoint().getVersion());
        List<String> holders = agents.agents().stream().filter(a -> a.holds(held)).map(AgentInfo::node).sorted().toList();
        ScaleUpRequest request = new ScaleUpRequest(update, target, holders);
        Run run = new Run(id, request, clock.instant(), timeoutSeconds(update));
        runs.put(run.key(), run);
        try {
            run.execution = config.executor().start(request, run);
        } catch (RuntimeException e) {
            runs.remove(run.key(), run);
            run.finished(ExecutionResult.failed("ExecutorError", "could not start: " + e.getMessage(), Map.of()));
            return ended(update, run, failed, fills, clock.instant());
        }
        LOG.info("scale-up started pod={} node={} holders={} fromSource={}", target.pod(), target.node(), holders, request.fromSource());
        events.normal(update, "ScaleUpStarted", "pod " + target.pod() + " on node " + target.node() + ": version " + request.version()
                + " " + run.how());
        if (request.fromSource()) {
            events.normal(update, "ScaleUpFromSource", "no node holds " + held + " any more: pod " + target.pod()
                    + " is filled from the checkpoint source " + update.getSpec().getCheckpoint().getSource().getPath());
        }
        return ScaleUpStatus.entry(target.pod(), target.node(), target.gpus(), PodResult.State.Updating, null, "filling " + run.how());
    }

    private static int timeoutSeconds(WeightUpdate update) {
        Integer timeout = update.getSpec().getTimeoutSeconds();
        return timeout == null ? 600 : timeout;
    }
}
