package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateStatus;
import dev.weightlift.operator.ops.UpdateMetrics;
import dev.weightlift.operator.reconciler.scaleup.ScaleUpConfig;
import dev.weightlift.operator.reconciler.scaleup.ScaleUps;
import dev.weightlift.operator.reconciler.weightupdate.Observation.Verdict;
import dev.weightlift.operator.status.ConditionFactory;
import dev.weightlift.operator.status.EventRecorder;
import dev.weightlift.operator.status.StatusWriter;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.retry.GradualRetry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives a {@code WeightUpdate}: validate the spec, give way to a newer conflicting update, resolve the target
 * pods and their agents, start the execution, and turn its reports into status, pod marks, metrics and Events.
 *
 * <p>Transient API failures are thrown (JOSDK retries with back-off); known failures become conditions and a
 * Warning Event. A non-terminal update is looked at again after {@link #RESCHEDULE} as a failsafe; a paused
 * one ({@code weightlift.dev/paused: "true"}) is left alone but for its Progressing condition. Once it has
 * succeeded, pods that join later are filled by {@link ScaleUps}; an update that writes into pods first stops
 * the scale-ups into them.
 */
@ControllerConfiguration(name = WeightUpdateReconciler.NAME, generationAwareEventProcessing = false,
        maxReconciliationInterval = @MaxReconciliationInterval(interval = 10, timeUnit = TimeUnit.MINUTES))
@GradualRetry(maxAttempts = 8, initialInterval = 500, intervalMultiplier = 2.0, maxInterval = 30_000)
public final class WeightUpdateReconciler implements Reconciler<WeightUpdate>, Cleaner<WeightUpdate> {

    public static final String NAME = "weightupdate";
    public static final String PAUSED_ANNOTATION = WeightUpdate.GROUP + "/paused";
    /** How soon a non-terminal update is looked at again without any event. */
    static final Duration RESCHEDULE = Duration.ofSeconds(15);

    private static final Logger LOG = LoggerFactory.getLogger(WeightUpdateReconciler.class);

    private final AgentDirectory agents;
    private final PodMarker podMarker;
    private final StatusWriter statusWriter;
    private final WeightUpdateStatusFactory statusFactory;
    private final EventRecorder events;
    private final UpdateMetrics metrics;
    private final Clock clock;
    private final SimpleInboundEventSource<WeightUpdate> wakeUps = new SimpleInboundEventSource<>("executions");
    private final Executions executions;
    private final ScaleUps scaleUps;
    private InformerEventSource<Pod, WeightUpdate> pods;

    public WeightUpdateReconciler(AgentDirectory agents, UpdateExecutor executor, ScaleUpConfig scaleUp, PodMarker podMarker,
            StatusWriter statusWriter, EventRecorder events, UpdateMetrics metrics, Clock clock) {
        this.agents = agents;
        this.podMarker = podMarker;
        this.statusWriter = statusWriter;
        this.statusFactory = new WeightUpdateStatusFactory(new ConditionFactory(clock));
        this.events = events;
        this.metrics = metrics;
        this.clock = clock;
        this.executions = new Executions(executor, wakeUps::propagateEvent, metrics, clock);
        this.scaleUps = new ScaleUps(scaleUp, agents, podMarker, statusWriter, events, metrics, clock, wakeUps::propagateEvent);
    }

    @Override
    public List<EventSource<?, WeightUpdate>> prepareEventSources(EventSourceContext<WeightUpdate> context) {
        pods = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, WeightUpdate.class)
                .withName("pods")
                .withNamespacesInheritedFromController()
                .withSecondaryToPrimaryMapper(new PodToWeightUpdateMapper(context.getPrimaryCache()))
                .build(), context);
        return List.of(pods, wakeUps);
    }

    @Override
    public UpdateControl<WeightUpdate> reconcile(WeightUpdate update, Context<WeightUpdate> context) {
        ResourceID id = ResourceID.fromResource(update);
        long generation = update.getMetadata().getGeneration();
        Optional<Executions.Run> run = executions.get(id);
        if (run.isPresent() && run.get().generation != generation) {
            executions.cancel(id, "spec changed to generation " + generation);
            run = Optional.empty();
        }
        WeightUpdateStatus status = update.getStatus();
        if (status != null && Long.valueOf(generation).equals(status.getObservedGeneration())
                && status.getPhase() != null && status.getPhase().isTerminal()) {
            run.ifPresent(finished -> executions.forget(id, finished));
            if (status.getPhase() == Phase.Succeeded) {
                String namespace = update.getMetadata().getNamespace();
                PodSelector selector = PodSelector.parse(update.getSpec().getSelector(), "spec.selector", new ArrayList<>());
                return scaleUps.reconcile(update, selected(namespace, selector), context.getPrimaryCache().list(namespace).toList());
            }
            scaleUps.cancel(id, "the update is " + status.getPhase());
            return UpdateControl.noUpdate();
        }
        scaleUps.cancel(id, "the update runs generation " + generation);
        if ("true".equals(annotation(update, PAUSED_ANNOTATION)) && run.isEmpty()) {
            write(update, Observation.of(Verdict.Paused, "paused by annotation " + PAUSED_ANNOTATION + "=true"));
            return UpdateControl.noUpdate();
        }

        List<String> problems = SpecValidator.validate(update.getSpec());
        if (!problems.isEmpty()) {
            String message = "invalid spec: " + String.join("; ", problems);
            events.warning(update, "InvalidSpec", message);
            write(update, Observation.of(Verdict.InvalidSpec, message));
            return UpdateControl.noUpdate();
        }

        String namespace = update.getMetadata().getNamespace();
        PodSelector selector = PodSelector.parse(update.getSpec().getSelector(), "spec.selector", new ArrayList<>());
        List<Pod> selected = selected(namespace, selector);
        List<WeightUpdate> peers = context.getPrimaryCache().list(namespace).toList();
        Optional<WeightUpdate> newer = SupersedeCheck.supersededBy(update, selected, peers);
        if (newer.isPresent()) {
            executions.cancel(id, "superseded by " + newer.get().getMetadata().getName());
            String message = "superseded by WeightUpdate " + newer.get().getMetadata().getName() + " (version "
                    + newer.get().getSpec().getCheckpoint().getVersion() + "), which selects some of the same pods";
            events.normal(update, "Superseded", message);
            write(update, Observation.of(Verdict.Superseded, message));
            return UpdateControl.noUpdate();
        }
        SupersedeCheck.superseding(update, selected, peers).stream()
                .filter(older -> older.getStatus() == null || older.getStatus().getPhase() == null || !older.getStatus().getPhase().isTerminal())
                .forEach(older -> wakeUps.propagateEvent(ResourceID.fromResource(older)));
        scaleUps.yieldTo(update, selected);

        if (run.isPresent()) {
            return follow(update, id, run.get());
        }
        return start(update, selector, selected);
    }

    private List<Pod> selected(String namespace, PodSelector selector) {
        return pods.list(namespace, pod -> selector.matches(pod.getMetadata().getLabels())).toList();
    }

    private UpdateControl<WeightUpdate> start(WeightUpdate update, PodSelector selector, List<Pod> selected) {
        Resolution resolution = TargetResolver.resolve(update.getMetadata().getNamespace(), selector, selected, agents);
        if (resolution instanceof Resolution.Resolved resolved) {
            Executions.Run run = executions.start(update, resolved);
            events.normal(update, "Started", "updating to version " + version(update) + ": " + resolved.message());
            return follow(update, ResourceID.fromResource(update), run);
        }
        Verdict verdict = resolution instanceof Resolution.NoMatchingPods ? Verdict.NoMatchingPods
                : resolution instanceof Resolution.PodsNotReady ? Verdict.PodsNotReady : Verdict.AgentMissing;
        if (verdict != Verdict.PodsNotReady) {
            events.warning(update, verdict.name(), resolution.message());
        }
        write(update, Observation.of(verdict, resolution.message(), resolution.pods()));
        return UpdateControl.<WeightUpdate>noUpdate().rescheduleAfter(RESCHEDULE);
    }

    private UpdateControl<WeightUpdate> follow(WeightUpdate update, ResourceID id, Executions.Run run) {
        Optional<ExecutionResult> result = run.result();
        Instant deadline = run.startedAt.plusSeconds(timeoutSeconds(update));
        if (result.isEmpty() && !clock.instant().isBefore(deadline)) {
            run.finishWith(ExecutionResult.failed("Timeout", "the update did not finish within spec.timeoutSeconds="
                    + timeoutSeconds(update), Map.of()));
            executions.stop(run, "deadline passed");
            result = run.result();
        }
        if (result.isPresent()) {
            finish(update, run, result.get());
            return UpdateControl.noUpdate();
        }
        Optional<ExecutionProgress> progress = run.progress();
        if (progress.isEmpty()) {
            write(update, new Observation(Verdict.WaitingForDataPlane, null, "waiting for the data plane: " + run.resolvedMessage,
                    run.pods, null, run.startTime(), null));
        } else {
            ExecutionProgress p = progress.get();
            List<PodResult> pods = withState(run.pods, PodResult.State.Updating, null, Map.of());
            write(update, new Observation(Verdict.Running, null, p.phase() + ": " + p.bucketsDone() + " of " + p.bucketsTotal() + " buckets",
                    pods, p, run.startTime(), null));
            metrics.progress(id.getNamespace().orElse(""), id.getName(), p.bytesTotal() <= 0 ? 0 : (int) (p.bytesDone() * 100 / p.bytesTotal()));
        }
        Duration untilDeadline = Duration.between(clock.instant(), deadline);
        return UpdateControl.<WeightUpdate>noUpdate().rescheduleAfter(untilDeadline.compareTo(RESCHEDULE) < 0 ? untilDeadline.plusMillis(10) : RESCHEDULE);
    }

    private void finish(WeightUpdate update, Executions.Run run, ExecutionResult result) {
        String version = version(update);
        Map<String, String> failed = new HashMap<>(result.failedPods());
        if (result.succeeded()) {
            for (Target target : run.targets) {
                if (!podMarker.markHolding(target, version)) {
                    failed.put(target.pod(), "the pod is gone or was replaced");
                }
            }
        }
        boolean succeeded = result.succeeded() && failed.isEmpty();
        List<PodResult> pods = succeeded || result.succeeded()
                ? withState(run.pods, PodResult.State.Updated, null, failed)
                : withState(run.pods, PodResult.State.Skipped, "not updated: " + result.reason(), failed);
        pods.forEach(p -> {
            if (p.getState() == PodResult.State.Updated) {
                p.setVersion(version);
            }
        });
        long updated = pods.stream().filter(p -> p.getState() == PodResult.State.Updated).count();
        ExecutionProgress finalProgress = new ExecutionProgress(Phase.Finalizing, result.bytesTotal(), result.bytesTotal(),
                run.progress().map(ExecutionProgress::bucketsTotal).orElse(0), run.progress().map(ExecutionProgress::bucketsTotal).orElse(0),
                run.progress().map(ExecutionProgress::bucketSizeBytes).orElse(0L));
        Observation observation;
        if (succeeded) {
            String message = updated + " of " + run.targets.size() + " pods hold version " + version;
            observation = new Observation(Verdict.Succeeded, null, message, pods, finalProgress, run.startTime(), result.timings());
        } else {
            String message = result.succeeded() ? "pods left before they could be marked: " + String.join(", ", failed.keySet()) : result.message();
            String reason = result.succeeded() ? "PodsGone" : result.reason();
            observation = new Observation(Verdict.Failed, reason, message, pods, run.progress().orElse(null), run.startTime(), result.timings());
        }
        // Flagged before the final status is written: an operator that dies in between leaves no pod reported current.
        if (!result.succeeded() && run.reachedEngines() && run.markPodsFlagged()) {
            flagNeedsUpdate(run, "update " + update.getMetadata().getName() + " to version " + version + " did not complete ("
                    + result.reason() + "); the engine may hold part of it");
        }
        write(update, observation);
        // The run stays registered until the cache shows the final status: a reconcile on a stale copy must not start it again.
        if (run.markFinishRecorded()) {
            if (succeeded) {
                events.normal(update, "Succeeded", observation.message());
            } else {
                events.warning(update, observation.reason(), observation.message());
            }
            metrics.finished(succeeded ? Phase.Succeeded : Phase.Failed, Duration.between(run.startedAt, clock.instant()));
        }
    }

    /** Flags every target of a run that reached the engines but did not complete: never reported current. */
    private void flagNeedsUpdate(Executions.Run run, String why) {
        for (Target target : run.targets) {
            podMarker.markNeedsUpdate(target, why);
        }
        LOG.info("pods flagged as needing an update pods={}", run.targets.size());
    }

    private static int timeoutSeconds(WeightUpdate update) {
        Integer timeout = update.getSpec().getTimeoutSeconds();
        return timeout == null ? 600 : timeout;
    }

    /** The pods with {@code state} and {@code message}, but Skipped ones as they were and failed ones Failed. */
    private static List<PodResult> withState(List<PodResult> pods, PodResult.State state, String message, Map<String, String> failed) {
        List<PodResult> result = new ArrayList<>();
        for (PodResult original : pods) {
            PodResult p = new PodResult();
            p.setName(original.getName());
            p.setNode(original.getNode());
            p.setGpus(new ArrayList<>(original.getGpus()));
            p.setMessage(original.getMessage());
            p.setState(original.getState());
            if (original.getState() != PodResult.State.Skipped) {
                String failure = failed.get(original.getName());
                p.setState(failure == null ? state : PodResult.State.Failed);
                p.setMessage(failure == null ? message : failure);
            }
            result.add(p);
        }
        return result;
    }

    private void write(WeightUpdate update, Observation observation) {
        WeightUpdateStatus desired = statusFactory.status(update, observation);
        Phase before = update.getStatus() == null ? null : update.getStatus().getPhase();
        if (statusWriter.write(update, desired) && desired.getPhase() != before) {
            metrics.phaseEntered(desired.getPhase());
        }
    }

    @Override
    public DeleteControl cleanup(WeightUpdate update, Context<WeightUpdate> context) {
        executions.cancel(ResourceID.fromResource(update), "deleted")
                .filter(run -> run.result().isEmpty() && run.reachedEngines())
                .ifPresent(run -> flagNeedsUpdate(run, "update " + update.getMetadata().getName() + " to version " + version(update)
                        + " was deleted mid-transfer; the engine may hold part of it"));
        scaleUps.cancel(ResourceID.fromResource(update), "deleted");
        metrics.forget(update.getMetadata().getNamespace(), update.getMetadata().getName());
        LOG.info("update deleted");
        return DeleteControl.defaultDelete();
    }

    private static String version(WeightUpdate update) {
        return update.getSpec().getCheckpoint().getVersion();
    }

    private static String annotation(WeightUpdate update, String key) {
        Map<String, String> annotations = update.getMetadata().getAnnotations();
        return annotations == null ? null : annotations.get(key);
    }
}
