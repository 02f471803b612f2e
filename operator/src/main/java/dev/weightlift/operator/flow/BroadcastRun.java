package dev.weightlift.operator.flow;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.Timings;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.hub.AgentException;
import dev.weightlift.operator.hub.AgentHub;
import dev.weightlift.operator.hub.AgentInfo;
import dev.weightlift.operator.plan.Bandwidths;
import dev.weightlift.operator.plan.Holding;
import dev.weightlift.operator.plan.LoadAssignment;
import dev.weightlift.operator.plan.LoadPlanner;
import dev.weightlift.operator.plan.LoadRequest;
import dev.weightlift.operator.plan.Mode;
import dev.weightlift.operator.plan.Participant;
import dev.weightlift.operator.plan.Plan;
import dev.weightlift.operator.plan.PlanException;
import dev.weightlift.operator.plan.PlanRequest;
import dev.weightlift.operator.plan.Planner;
import dev.weightlift.operator.plan.ReceiverStrategy;
import dev.weightlift.operator.plan.TensorMeta;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionListener;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionProgress;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionResult;
import dev.weightlift.operator.reconciler.weightupdate.Target;
import dev.weightlift.protocol.AbortUpdate;
import dev.weightlift.protocol.CheckpointLoaded;
import dev.weightlift.protocol.GpuInfo;
import dev.weightlift.protocol.LoadCheckpoint;
import dev.weightlift.protocol.PrepareUpdate;
import dev.weightlift.protocol.ProtocolException;
import dev.weightlift.protocol.ReleaseCheckpoint;
import dev.weightlift.protocol.Response;
import dev.weightlift.protocol.RunUpdate;
import dev.weightlift.protocol.TargetOutcome;
import dev.weightlift.protocol.UpdatePrepared;
import dev.weightlift.protocol.UpdateProgress;
import dev.weightlift.protocol.UpdateResult;
import dev.weightlift.protocol.broadcast.LoadedTensor;
import dev.weightlift.protocol.broadcast.NodePrepared;
import dev.weightlift.protocol.broadcast.NodeWork;
import dev.weightlift.protocol.broadcast.RunWork;
import dev.weightlift.protocol.broadcast.WorkCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One Broadcast update, start to end: lease the pods → assign files to GPUs → agents load → gather their
 * tensor tables → plan → agents prepare (pin, open the collective and the engine channels, checksum owned buckets)
 * → agents run (join info and checksums relayed to all; pipeline, engine triggers)
 * with progress → result. Any failure or cancellation aborts every prepared agent and waits for them.
 */
final class BroadcastRun implements EngineLeases.Holder {

    /**
     * A step before the load that puts the checkpoint into the targets' host stores some other way (P2P
     * reads); the load then finds it held. Absent for a Broadcast.
     */
    interface Prefill {
        /** Returns how the weights reach the targets' nodes, for the log and the result. */
        ExecutionResult.Arrival run(BroadcastRun run, List<TensorMeta> tensors, Map<String, Participant> targets) throws FlowFailure;
    }

    private static final Logger LOG = LoggerFactory.getLogger(BroadcastRun.class);

    private final String id;
    private final WeightUpdate update;
    private final List<Target> targets;
    private final ExecutionListener listener;
    private final AgentHub hub;
    private final EngineLeases leases;
    private final BroadcastExecutor.Deadlines deadlines;
    private final FlowMetrics metrics;
    private final Prefill prefill;
    private final long deadlineNanos;
    private final CompletableFuture<String> cancelled = new CompletableFuture<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final Set<String> preparedNodes = ConcurrentHashMap.newKeySet();
    private final Set<String> loadingNodes = ConcurrentHashMap.newKeySet();
    private final Map<String, UpdateProgress> progressByNode = new ConcurrentHashMap<>();
    private volatile Plan plan;
    private volatile Set<String> runningNodes = Set.of();
    private long lastReportNanos;

    BroadcastRun(WeightUpdate update, List<Target> targets, ExecutionListener listener, AgentHub hub, EngineLeases leases,
            BroadcastExecutor.Deadlines deadlines, FlowMetrics metrics) {
        this(updateId(update), update, targets, listener, hub, leases, deadlines, metrics, null);
    }

    /** A run under its own {@code id} (the agents' update id), with a {@code prefill} or null. */
    BroadcastRun(String id, WeightUpdate update, List<Target> targets, ExecutionListener listener, AgentHub hub, EngineLeases leases,
            BroadcastExecutor.Deadlines deadlines, FlowMetrics metrics, Prefill prefill) {
        this.update = update;
        this.id = id;
        this.prefill = prefill;
        this.targets = List.copyOf(targets);
        this.listener = listener;
        this.hub = hub;
        this.leases = leases;
        this.deadlines = deadlines;
        this.metrics = metrics;
        this.deadlineNanos = System.nanoTime() + Duration.ofSeconds(update.getSpec().getTimeoutSeconds()).toNanos();
    }

    String id() {
        return id;
    }

    /** {@code namespace/name/gGENERATION}: the id of an update's Broadcast. */
    static String updateId(WeightUpdate update) {
        return update.getMetadata().getNamespace() + "/" + update.getMetadata().getName() + "/g" + update.getMetadata().getGeneration();
    }

    @Override
    public String name() {
        return update.getMetadata().getName() + " (version " + update.getSpec().getCheckpoint().getVersion() + ")";
    }

    @Override
    public void cancel(String reason) {
        cancelled.complete(reason);
    }

    @Override
    public CompletableFuture<Void> stopped() {
        return stopped;
    }

    void execute() {
        long start = System.nanoTime();
        Timings timings = new Timings();
        MDC.put("update", id);
        try {
            listener.progress(new ExecutionProgress(Phase.Loading, 0, 0, 0, 0, 0));
            leases.acquire(this, targets.stream().map(t -> t.namespace() + "/" + t.pod()).toList(), remaining());
            checkCancelled();
            Map<String, Participant> participants = participants();
            List<TensorMeta> tensors = inspect();
            String grouping = update.getSpec().getGrouping() == null ? null : update.getSpec().getGrouping().getPattern();
            LoadAssignment assignment = LoadPlanner.assign(new LoadRequest(tensors, List.copyOf(participants.values()), grouping,
                    LoadRequest.Granularity.FILE));

            long loadStart = System.nanoTime();
            ExecutionResult.Arrival arrival = null;
            if (prefill != null) {
                arrival = prefill.run(this, tensors, participants);
                LOG.info("prefilled update={}: {}", id, arrival);
                checkCancelled();
            }
            Map<String, CheckpointLoaded> loaded = load(assignment.filesByNode());
            timings.setLoadMillis(stage("load", loadStart));

            long gatherStart = System.nanoTime();
            List<Holding> holdings = holdings(assignment, participants, loaded);
            Plan made = Planner.plan(new PlanRequest(checkpointId(), Mode.BROADCAST, holdings, List.copyOf(participants.values()),
                    BroadcastPlanner.sizing(update.getSpec()), grouping, ReceiverStrategy.WEIGHTLIFT, Bandwidths.h200()));
            plan = made;
            LOG.info("planned update={}\n{}", id, made.summary());
            Map<String, NodeWork> work = BroadcastPlanner.nodeWork(update, made, participants, targets,
                    capped(deadlines.engineConnect()).toMillis(), capped(deadlines.step()).toMillis(), remaining().toMillis());
            Map<String, NodePrepared> prepared = prepare(work);
            List<String> rankEndpoints = made.targets().stream()
                    .map(t -> prepared.get(participants.get(t).node()).collective().endpoint()).toList();
            Map<Integer, Long> bucketCrc32 = new TreeMap<>();
            prepared.values().forEach(p -> bucketCrc32.putAll(p.bucketCrc32()));
            timings.setGatherMillis(stage("gather", gatherStart));

            listener.progress(new ExecutionProgress(Phase.Transferring, made.totalBytes(), 0, made.buckets().size(), 0,
                    made.sizing().bucketBytes()));
            long transferStart = System.nanoTime();
            Map<String, UpdateResult> results = run(work.keySet(), new RunWork(rankEndpoints, bucketCrc32));
            long transferMillis = stage("transfer", transferStart);
            long reload = results.values().stream().mapToLong(r -> r.stageMillis().getOrDefault("reload", 0L)).max().orElse(0);
            long finalize = results.values().stream().mapToLong(r -> r.stageMillis().getOrDefault("finalize", 0L)).max().orElse(0);
            timings.setTransferMillis(Math.max(0, transferMillis - finalize));
            timings.setReloadMillis(reload);
            timings.setFinalizeMillis(finalize);
            metrics.stage("reload", Duration.ofMillis(reload));
            metrics.stage("finalize", Duration.ofMillis(finalize));
            timings.setTotalMillis((System.nanoTime() - start) / 1_000_000);
            listener.progress(new ExecutionProgress(Phase.Finalizing, made.totalBytes(), made.totalBytes(), made.buckets().size(),
                    made.buckets().size(), made.sizing().bucketBytes()));
            LOG.info("update succeeded update={} bytes={} millis={}", id, made.totalBytes(), timings.getTotalMillis());
            listener.finished(new ExecutionResult(true, "Succeeded", "", Map.of(), made.totalBytes(), timings, arrival));
        } catch (FlowFailure f) {
            timings.setTotalMillis((System.nanoTime() - start) / 1_000_000);
            abortAgents(f.getMessage());
            releaseLoaded();
            LOG.warn("update failed update={} reason={}: {}", id, f.reason(), f.getMessage());
            listener.finished(new ExecutionResult(false, f.reason(), f.getMessage(), f.failedPods(), 0, timings));
        } catch (PlanException | IllegalArgumentException e) {
            abortAgents(e.getMessage());
            releaseLoaded();
            listener.finished(ExecutionResult.failed("PlanFailed", "cannot plan the update: " + e.getMessage(), Map.of()));
        } catch (TimeoutException e) {
            listener.finished(ExecutionResult.failed("Superseding", e.getMessage(), Map.of()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abortAgents("operator interrupted");
        } catch (RuntimeException e) {
            LOG.error("update failed update={}", id, e);
            abortAgents(String.valueOf(e));
            releaseLoaded();
            listener.finished(ExecutionResult.failed("InternalError", String.valueOf(e), Map.of()));
        } finally {
            leases.release(this);
            stopped.complete(null);
            MDC.remove("update");
        }
    }

    /** An agent's progress: every node's bytes acknowledged by all its engine workers; the slowest node counts. */
    void agentProgress(String node, UpdateProgress progress) {
        Plan current = plan;
        if (current == null || cancelled.isDone()) {
            return;
        }
        progressByNode.put(node, progress);
        synchronized (this) {
            long now = System.nanoTime();
            if (now - lastReportNanos < deadlines.progressInterval().toNanos()) {
                return;
            }
            double fraction = 1;
            int buckets = Integer.MAX_VALUE;
            for (String n : runningNodes) {
                UpdateProgress p = progressByNode.get(n);
                fraction = Math.min(fraction, p == null || p.bytesTotal() <= 0 ? 0 : (double) p.bytesDone() / p.bytesTotal());
                buckets = Math.min(buckets, p == null ? 0 : p.bucketsDone());
            }
            lastReportNanos = now;
            listener.progress(new ExecutionProgress(Phase.Transferring, current.totalBytes(), (long) (fraction * current.totalBytes()),
                    current.buckets().size(), buckets == Integer.MAX_VALUE ? 0 : buckets, current.sizing().bucketBytes()));
        }
    }

    private Map<String, Participant> participants() throws FlowFailure {
        int perInstance = update.getSpec().getEngine().getGpusPerInstance();
        Map<String, Participant> result = new LinkedHashMap<>();
        for (Target target : targets) {
            if (target.gpus().isEmpty()) {
                throw new FlowFailure("GpusUnknown", "pod " + target.pod() + " does not name its GPUs (annotation weightlift.dev/gpus)",
                        Map.of(target.pod(), "GPUs unknown"));
            }
            if (target.gpus().size() != perInstance) {
                throw new FlowFailure("GpuMismatch", "pod " + target.pod() + " has " + target.gpus().size()
                        + " GPUs but spec.engine.gpusPerInstance is " + perInstance, Map.of(target.pod(), "wrong GPU count"));
            }
            AgentInfo agent = hub.agent(target.node()).orElseThrow(() -> new FlowFailure("AgentLost",
                    "the agent of node " + target.node() + " (pod " + target.pod() + ") is not connected",
                    Map.of(target.pod(), "no agent on node " + target.node())));
            for (String uuid : target.gpus()) {
                GpuInfo gpu = agent.gpu(uuid).orElseThrow(() -> new FlowFailure("GpuUnknown", "pod " + target.pod() + " names GPU "
                        + uuid + ", which the agent of node " + target.node() + " does not have", Map.of(target.pod(), "unknown GPU " + uuid)));
                Participant p = new Participant(target.node(), gpu.index(), uuid, gpu.freeMemory(), List.of(), agent.hostAddress());
                if (result.put(p.id(), p) != null) {
                    throw new FlowFailure("GpuConflict", "GPU " + uuid + " on node " + target.node() + " is named by two pods",
                            Map.of(target.pod(), "GPU " + uuid + " named twice"));
                }
            }
        }
        return result;
    }

    private List<TensorMeta> inspect() throws FlowFailure {
        String path = update.getSpec().getCheckpoint().getSource().getPath();
        try {
            return CheckpointInspector.read(Path.of(path));
        } catch (IOException | RuntimeException e) {
            throw new FlowFailure("CheckpointInvalid", "checkpoint " + path + ": " + e.getMessage());
        }
    }

    private Map<String, CheckpointLoaded> load(Map<String, List<String>> filesByNode) throws FlowFailure {
        String path = update.getSpec().getCheckpoint().getSource().getPath();
        Map<String, CompletableFuture<CheckpointLoaded>> requests = new TreeMap<>();
        loadingNodes.addAll(filesByNode.keySet());
        filesByNode.forEach((node, files) -> requests.put(node, hub.request(node, new LoadCheckpoint(
                update.getSpec().getCheckpoint().getName(), update.getSpec().getCheckpoint().getVersion(), path, files), remaining())));
        return awaitAll("loading the checkpoint", requests);
    }

    private List<Holding> holdings(LoadAssignment assignment, Map<String, Participant> participants,
            Map<String, CheckpointLoaded> loaded) throws FlowFailure {
        Map<String, List<LoadedTensor>> byNode = new HashMap<>();
        for (Map.Entry<String, CheckpointLoaded> e : loaded.entrySet()) {
            try {
                byNode.put(e.getKey(), WorkCodec.tensors(e.getValue().tensors()));
            } catch (ProtocolException ex) {
                throw new FlowFailure("AgentError", "the agent of node " + e.getKey() + " reported " + ex.getMessage());
            }
        }
        return BroadcastPlanner.holdings(assignment, participants, byNode);
    }

    private Map<String, NodePrepared> prepare(Map<String, NodeWork> work) throws FlowFailure {
        Map<String, CompletableFuture<UpdatePrepared>> requests = new TreeMap<>();
        work.forEach((node, part) -> {
            preparedNodes.add(node);
            requests.put(node, hub.request(node, new PrepareUpdate(id, update.getSpec().getCheckpoint().getName(),
                    update.getSpec().getCheckpoint().getVersion(), WorkCodec.toTree(part)), shortDeadline()));
        });
        Map<String, UpdatePrepared> prepared = awaitAll("preparing the update", requests);
        Map<String, NodePrepared> answers = new TreeMap<>();
        for (Map.Entry<String, UpdatePrepared> e : prepared.entrySet()) {
            try {
                answers.put(e.getKey(), WorkCodec.fromTree(e.getValue().details(), NodePrepared.class));
            } catch (ProtocolException ex) {
                throw new FlowFailure("AgentError", "the agent of node " + e.getKey() + " answered " + ex.getMessage());
            }
        }
        return answers;
    }

    private Map<String, UpdateResult> run(Set<String> nodes, RunWork work) throws FlowFailure {
        runningNodes = Set.copyOf(nodes);
        Map<String, CompletableFuture<UpdateResult>> requests = new TreeMap<>();
        for (String node : nodes) {
            requests.put(node, hub.request(node, new RunUpdate(id, WorkCodec.toTree(work)), remaining()));
        }
        Map<String, UpdateResult> results = awaitAll("running the update", requests);
        Map<String, String> failedPods = new TreeMap<>();
        List<String> errors = new ArrayList<>();
        for (Map.Entry<String, UpdateResult> e : results.entrySet()) {
            if (!e.getValue().ok()) {
                errors.add("node " + e.getKey() + ": " + e.getValue().error());
            }
            for (TargetOutcome outcome : e.getValue().outcomes()) {
                if (!outcome.ok()) {
                    failedPods.putIfAbsent(podName(outcome.engine()), outcome.error());
                }
            }
        }
        if (!errors.isEmpty()) {
            throw new FlowFailure("EngineError", String.join("; ", errors), failedPods);
        }
        return results;
    }

    /**
     * Waits for one answer per node, failing fast: the first failure (or the update's cancellation or
     * deadline) ends the wait with a failure naming the node and the step.
     */
    <R extends Response> Map<String, R> awaitAll(String step, Map<String, CompletableFuture<R>> requests) throws FlowFailure {
        CompletableFuture<Void> all = CompletableFuture.allOf(requests.values().toArray(CompletableFuture[]::new));
        CompletableFuture<Object> firstFailure = new CompletableFuture<>();
        requests.values().forEach(f -> f.whenComplete((r, e) -> {
            if (e != null) {
                firstFailure.complete(e);
            }
        }));
        try {
            CompletableFuture.anyOf(all, firstFailure, cancelled).get(remaining().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new FlowFailure("Timeout", step + " did not finish within spec.timeoutSeconds=" + update.getSpec().getTimeoutSeconds());
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FlowFailure("Cancelled", "interrupted while " + step);
        }
        checkCancelled();
        Map<String, R> results = new LinkedHashMap<>();
        for (Map.Entry<String, CompletableFuture<R>> e : requests.entrySet()) {
            try {
                results.put(e.getKey(), e.getValue().getNow(null));
            } catch (java.util.concurrent.CompletionException ex) {
                Throwable cause = ex.getCause();
                String node = e.getKey();
                Map<String, String> pods = new TreeMap<>();
                targets.stream().filter(t -> t.node().equals(node)).forEach(t -> pods.put(t.pod(), cause.getMessage()));
                String reason = cause instanceof AgentException a ? switch (a.reason()) {
                    case GONE, NOT_CONNECTED, HUB_CLOSED -> "AgentLost";
                    case TIMEOUT -> "Timeout";
                    default -> a.refusal() != null ? a.refusal() : "AgentError";
                } : "AgentError";
                throw new FlowFailure(reason, step + " failed on node " + node + ": " + cause.getMessage(), pods);
            }
        }
        return results;
    }

    /** From now on a failure or cancellation sends {@code node} an abort of this run (a step in flight there stops). */
    void abortOnFailure(String node) {
        preparedNodes.add(node);
    }

    private void checkCancelled() throws FlowFailure {
        String reason = cancelled.getNow(null);
        if (reason != null) {
            throw new FlowFailure("Cancelled", "cancelled: " + reason);
        }
    }

    /** Tells every prepared agent to stop and waits (bounded) until each has. */
    private void abortAgents(String reason) {
        if (preparedNodes.isEmpty()) {
            return;
        }
        List<CompletableFuture<?>> acks = new ArrayList<>();
        for (String node : preparedNodes) {
            acks.add(hub.request(node, new AbortUpdate(id, reason), deadlines.abort()).exceptionally(e -> {
                LOG.warn("abort not acknowledged update={} node={}: {}", id, node, e.getMessage());
                return null;
            }));
        }
        try {
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(deadlines.abort().toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            LOG.warn("agents did not all acknowledge the abort of update={}", id);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("update aborted update={} nodes={} reason={}", id, preparedNodes, reason);
    }

    /**
     * Drops the version from the host store of every node asked to load it, so that a failed update leaves the
     * agents' memory as it found it (bounded like the abort; a node that does not answer keeps it until its
     * store's retention drops it).
     */
    private void releaseLoaded() {
        if (loadingNodes.isEmpty()) {
            return;
        }
        String name = update.getSpec().getCheckpoint().getName();
        String version = update.getSpec().getCheckpoint().getVersion();
        List<CompletableFuture<?>> acks = new ArrayList<>();
        for (String node : loadingNodes) {
            acks.add(hub.request(node, new ReleaseCheckpoint(name, version), deadlines.abort()).exceptionally(e -> {
                LOG.warn("release not acknowledged update={} node={}: {}", id, node, e.getMessage());
                return null;
            }));
        }
        try {
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(deadlines.abort().toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            LOG.warn("agents did not all release version={} of update={}", version, id);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String checkpointId() {
        return update.getSpec().getCheckpoint().getName() + "@" + update.getSpec().getCheckpoint().getVersion();
    }

    private static String podName(String engine) {
        int slash = engine.indexOf('/');
        return slash < 0 ? engine : engine.substring(slash + 1);
    }

    private long stage(String name, long startNanos) {
        Duration time = Duration.ofNanos(System.nanoTime() - startNanos);
        metrics.stage(name, time);
        return time.toMillis();
    }

    Duration remaining() {
        return Duration.ofNanos(Math.max(1_000_000, deadlineNanos - System.nanoTime()));
    }

    Duration shortDeadline() {
        return capped(deadlines.request());
    }

    /** {@code deadline}, or what is left of the update's own deadline when that is shorter. */
    private Duration capped(Duration deadline) {
        Duration left = remaining();
        return left.compareTo(deadline) < 0 ? left : deadline;
    }
}
