package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.ops.UpdateMetrics;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The executions in flight, one per update: starts them through the {@link UpdateExecutor}, keeps what they
 * report, and wakes the update's reconciler on every report.
 */
final class Executions {

    private static final Logger LOG = LoggerFactory.getLogger(Executions.class);

    /** One execution of one generation of an update. */
    static final class Run {
        final long generation;
        final Instant startedAt;
        final List<Target> targets;
        final List<PodResult> pods;
        /** What the resolution said about the targets, e.g. {@code 2 of 3 pods matching app=llm take part}. */
        final String resolvedMessage;
        private volatile UpdateExecutor.Execution execution;
        private volatile ExecutionProgress progress;
        private volatile ExecutionResult result;
        private long bytesCounted;
        private boolean finishRecorded;
        private boolean podsFlagged;
        /** Whether a run before this one (of an operator that restarted) got as far as the engines. */
        private final boolean earlierRunReachedEngines;

        private Run(long generation, Instant startedAt, List<Target> targets, List<PodResult> pods, String resolvedMessage,
                boolean earlierRunReachedEngines) {
            this.earlierRunReachedEngines = earlierRunReachedEngines;
            this.generation = generation;
            this.startedAt = startedAt;
            this.targets = List.copyOf(targets);
            this.pods = List.copyOf(pods);
            this.resolvedMessage = resolvedMessage;
        }

        /** The start, in the API's timestamp form. */
        String startTime() {
            return startedAt.truncatedTo(ChronoUnit.SECONDS).toString();
        }

        Optional<ExecutionProgress> progress() {
            return Optional.ofNullable(progress);
        }

        Optional<ExecutionResult> result() {
            return Optional.ofNullable(result);
        }

        /**
         * Whether the execution, or one before it of the same generation, got as far as sending weights to engines
         * (so an engine may hold part of them).
         */
        boolean reachedEngines() {
            ExecutionProgress p = progress;
            return earlierRunReachedEngines || p != null && (p.phase() == Phase.Transferring || p.phase() == Phase.Finalizing);
        }

        /** True the first time only: the pods of a run that did not complete are flagged once. */
        synchronized boolean markPodsFlagged() {
            if (podsFlagged) {
                return false;
            }
            podsFlagged = true;
            return true;
        }

        /** Ends the run with {@code result} unless it already ended (the deadline passed). */
        synchronized void finishWith(ExecutionResult ending) {
            if (result == null) {
                result = ending;
            }
        }

        /** True the first time only: the end's Event and metrics are recorded once. */
        synchronized boolean markFinishRecorded() {
            if (finishRecorded) {
                return false;
            }
            finishRecorded = true;
            return true;
        }
    }

    private final UpdateExecutor executor;
    private final Consumer<ResourceID> wake;
    private final UpdateMetrics metrics;
    private final Clock clock;
    private final Map<ResourceID, Run> runs = new ConcurrentHashMap<>();

    Executions(UpdateExecutor executor, Consumer<ResourceID> wake, UpdateMetrics metrics, Clock clock) {
        this.executor = executor;
        this.wake = wake;
        this.metrics = metrics;
        this.clock = clock;
    }

    Optional<Run> get(ResourceID id) {
        return Optional.ofNullable(runs.get(id));
    }

    Run start(WeightUpdate update, Resolution.Resolved resolved) {
        ResourceID id = ResourceID.fromResource(update);
        Phase recorded = update.getStatus() == null ? null : update.getStatus().getPhase();
        boolean earlierReachedEngines = recorded == Phase.Transferring || recorded == Phase.Finalizing;
        Run run = new Run(update.getMetadata().getGeneration(), Instant.now(clock), resolved.targets(), resolved.pods(), resolved.message(),
                earlierReachedEngines);
        runs.put(id, run);
        try {
            run.execution = executor.start(update, run.targets, new Listener(id, run));
        } catch (RuntimeException e) {
            runs.remove(id, run);
            throw e;
        }
        LOG.info("execution started generation={} targets={}", run.generation, run.targets.size());
        return run;
    }

    /** Cancels and forgets the update's execution, if any. */
    Optional<Run> cancel(ResourceID id, String reason) {
        Run run = runs.remove(id);
        if (run != null && run.execution != null) {
            LOG.info("execution cancelled generation={} reason={}", run.generation, reason);
            run.execution.cancel(reason);
        }
        return Optional.ofNullable(run);
    }

    /** Cancels the run's execution but keeps the run (and its result) registered. */
    void stop(Run run, String reason) {
        if (run.execution != null) {
            LOG.info("execution stopped generation={} reason={}", run.generation, reason);
            run.execution.cancel(reason);
        }
    }

    /** Forgets a finished execution. */
    void forget(ResourceID id, Run run) {
        runs.remove(id, run);
    }

    private final class Listener implements ExecutionListener {
        private final ResourceID id;
        private final Run run;

        Listener(ResourceID id, Run run) {
            this.id = id;
            this.run = run;
        }

        @Override
        public void progress(ExecutionProgress progress) {
            if (runs.get(id) != run || run.result != null) {
                return;
            }
            synchronized (run) {
                metrics.bytesMoved(progress.bytesDone() - run.bytesCounted);
                run.bytesCounted = Math.max(run.bytesCounted, progress.bytesDone());
            }
            run.progress = progress;
            wake.accept(id);
        }

        @Override
        public void finished(ExecutionResult result) {
            synchronized (run) {
                if (runs.get(id) != run || run.result != null) {
                    return;
                }
                if (result.succeeded()) {
                    metrics.bytesMoved(result.bytesTotal() - run.bytesCounted);
                }
                run.result = result;
            }
            MDC.put("resource.name", id.getName());
            MDC.put("resource.namespace", id.getNamespace().orElse(""));
            try {
                LOG.info("execution finished succeeded={} reason={}", result.succeeded(), result.reason());
            } finally {
                MDC.remove("resource.name");
                MDC.remove("resource.namespace");
            }
            wake.accept(id);
        }
    }
}
