package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.Progress;
import dev.weightlift.api.v1alpha1.Targets;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateStatus;
import dev.weightlift.operator.reconciler.weightupdate.Observation.Verdict;
import dev.weightlift.operator.status.ConditionFactory;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The status an update should have, from its current status and an {@link Observation}. Pure but for the
 * injected clock (condition transition times, completion time, ETA).
 *
 * <pre>
 * verdict              phase        Ready                 Progressing                 Degraded
 * InvalidSpec          Failed       False InvalidSpec     False InvalidSpec           True InvalidSpec
 * NoMatchingPods       Pending      False NoMatchingPods  False NoMatchingPods        True NoMatchingPods
 * PodsNotReady         Pending      False PodsNotReady    True PodsNotReady           False AsExpected
 * AgentMissing         Pending      False AgentMissing    False AgentMissing          True AgentMissing
 * WaitingForDataPlane  Pending      False Updating        True WaitingForDataPlane    False AsExpected
 * Running              progress's   False Updating        True &lt;phase&gt;                False AsExpected
 * Succeeded            Succeeded    True Succeeded        False Succeeded             False AsExpected
 * Failed               Failed       False &lt;reason&gt;       False &lt;reason&gt;             True &lt;reason&gt;
 * Superseded           Superseded   False Superseded      False Superseded            False Superseded
 * Paused               unchanged    unchanged             False Paused                unchanged
 * </pre>
 */
public final class WeightUpdateStatusFactory {

    private static final String AS_EXPECTED = "AsExpected";

    private final ConditionFactory conditions;

    public WeightUpdateStatusFactory(ConditionFactory conditions) {
        this.conditions = conditions;
    }

    public WeightUpdateStatus status(WeightUpdate update, Observation observation) {
        WeightUpdateStatus previous = update.getStatus() == null ? new WeightUpdateStatus() : update.getStatus();
        Long generation = update.getMetadata().getGeneration();
        String message = observation.message();
        return switch (observation.verdict()) {
            case Paused -> paused(previous, generation, message);
            case Superseded -> superseded(previous, generation, message);
            case InvalidSpec -> fresh(update, observation, Phase.Failed,
                    cond(previous, false, "InvalidSpec", message, generation),
                    progressing(previous, false, "InvalidSpec", message, generation),
                    degraded(previous, true, "InvalidSpec", message, generation));
            case NoMatchingPods, AgentMissing -> fresh(update, observation, Phase.Pending,
                    cond(previous, false, observation.verdict().name(), message, generation),
                    progressing(previous, false, observation.verdict().name(), message, generation),
                    degraded(previous, true, observation.verdict().name(), message, generation));
            case PodsNotReady -> fresh(update, observation, Phase.Pending,
                    cond(previous, false, "PodsNotReady", message, generation),
                    progressing(previous, true, "PodsNotReady", message, generation),
                    degraded(previous, false, AS_EXPECTED, "", generation));
            case WaitingForDataPlane -> fresh(update, observation, Phase.Pending,
                    cond(previous, false, "Updating", message, generation),
                    progressing(previous, true, "WaitingForDataPlane", message, generation),
                    degraded(previous, false, AS_EXPECTED, "", generation));
            case Running -> {
                Phase phase = observation.progress().phase();
                yield fresh(update, observation, phase,
                        cond(previous, false, "Updating", message, generation),
                        progressing(previous, true, phase.name(), message, generation),
                        degraded(previous, false, AS_EXPECTED, "", generation));
            }
            case Succeeded -> fresh(update, observation, Phase.Succeeded,
                    cond(previous, true, "Succeeded", message, generation),
                    progressing(previous, false, "Succeeded", message, generation),
                    degraded(previous, false, AS_EXPECTED, "", generation));
            case Failed -> fresh(update, observation, Phase.Failed,
                    cond(previous, false, observation.reason(), message, generation),
                    progressing(previous, false, observation.reason(), message, generation),
                    degraded(previous, true, observation.reason(), message, generation));
        };
    }

    private WeightUpdateStatus fresh(WeightUpdate update, Observation observation, Phase phase, Condition ready,
            Condition progressing, Condition degraded) {
        WeightUpdateStatus previous = update.getStatus() == null ? new WeightUpdateStatus() : update.getStatus();
        Long generation = update.getMetadata().getGeneration();
        boolean sameRun = generation != null && generation.equals(previous.getObservedGeneration());
        WeightUpdateStatus status = new WeightUpdateStatus();
        status.setObservedGeneration(generation);
        status.setPhase(phase);
        status.setConditions(new ArrayList<>(List.of(ready, progressing, degraded)));
        List<PodResult> pods = observation.pods().stream().sorted(Comparator.comparing(PodResult::getName)).toList();
        status.setTargets(new Targets(pods.size(),
                (int) pods.stream().filter(p -> p.getState() == PodResult.State.Updated).count(),
                (int) pods.stream().filter(p -> p.getState() == PodResult.State.Failed).count()));
        status.setPods(new ArrayList<>(pods.subList(0, Math.min(pods.size(), WeightUpdateStatus.MAX_PODS))));
        status.setStartTime(observation.startTime());
        status.setTimings(observation.timings());
        if (observation.progress() != null) {
            status.setProgress(progress(observation.progress(), observation.startTime(), phase));
            status.setBucketSizeBytes(observation.progress().bucketSizeBytes() > 0 ? observation.progress().bucketSizeBytes() : null);
        }
        if (phase.isTerminal()) {
            status.setCompletionTime(sameRun && phase == previous.getPhase() && previous.getCompletionTime() != null
                    ? previous.getCompletionTime() : conditions.now());
        }
        return status;
    }

    private WeightUpdateStatus paused(WeightUpdateStatus previous, Long generation, String message) {
        WeightUpdateStatus status = copy(previous);
        if (status.getPhase() == null) {
            status.setPhase(Phase.Pending);
            status.setObservedGeneration(generation);
        }
        List<Condition> kept = new ArrayList<>(previous.getConditions() == null ? List.of() : previous.getConditions());
        kept.removeIf(c -> ConditionFactory.PROGRESSING.equals(c.getType()));
        kept.add(progressing(previous, false, "Paused", message, generation));
        kept.sort(Comparator.comparing(c -> conditionOrder(c.getType())));
        status.setConditions(kept);
        return status;
    }

    private WeightUpdateStatus superseded(WeightUpdateStatus previous, Long generation, String message) {
        WeightUpdateStatus status = copy(previous);
        status.setObservedGeneration(generation);
        status.setPhase(Phase.Superseded);
        status.setConditions(new ArrayList<>(List.of(
                cond(previous, false, "Superseded", message, generation),
                progressing(previous, false, "Superseded", message, generation),
                degraded(previous, false, "Superseded", message, generation))));
        status.setCompletionTime(previous.getPhase() == Phase.Superseded && previous.getCompletionTime() != null
                ? previous.getCompletionTime() : conditions.now());
        return status;
    }

    private Progress progress(ExecutionProgress p, String startTime, Phase phase) {
        boolean complete = phase == Phase.Succeeded;
        Progress progress = new Progress();
        long done = complete ? p.bytesTotal() : p.bytesDone();
        progress.setBytesTotal(p.bytesTotal());
        progress.setBytesDone(done);
        progress.setBucketsTotal(p.bucketsTotal());
        progress.setBucketsDone(complete ? p.bucketsTotal() : p.bucketsDone());
        int percent = p.bytesTotal() <= 0 ? (complete ? 100 : 0) : (int) Math.min(100, done * 100 / p.bytesTotal());
        progress.setPercent(percent);
        progress.setSummary(String.format(Locale.ROOT, "%d%% %.1f/%.1f GiB", percent, gib(done), gib(p.bytesTotal())));
        if (!phase.isTerminal() && startTime != null && done > 0 && done < p.bytesTotal()) {
            long elapsedMillis = Math.max(0, Duration.between(Instant.parse(startTime), conditions.instant()).toMillis());
            progress.setEtaSeconds((long) Math.ceil(elapsedMillis / 1000.0 * (p.bytesTotal() - done) / done));
        }
        return progress;
    }

    private static double gib(long bytes) {
        return bytes / (double) (1L << 30);
    }

    private Condition cond(WeightUpdateStatus previous, boolean status, String reason, String message, Long generation) {
        return conditions.make(previous.getConditions(), ConditionFactory.READY, status, reason, message, generation);
    }

    private Condition progressing(WeightUpdateStatus previous, boolean status, String reason, String message, Long generation) {
        return conditions.make(previous.getConditions(), ConditionFactory.PROGRESSING, status, reason, message, generation);
    }

    private Condition degraded(WeightUpdateStatus previous, boolean status, String reason, String message, Long generation) {
        return conditions.make(previous.getConditions(), ConditionFactory.DEGRADED, status, reason, message, generation);
    }

    private static int conditionOrder(String type) {
        return switch (type) {
            case ConditionFactory.READY -> 0;
            case ConditionFactory.PROGRESSING -> 1;
            case ConditionFactory.DEGRADED -> 2;
            default -> 3;
        };
    }

    private static WeightUpdateStatus copy(WeightUpdateStatus s) {
        WeightUpdateStatus c = new WeightUpdateStatus();
        c.setObservedGeneration(s.getObservedGeneration());
        c.setPhase(s.getPhase());
        c.setConditions(s.getConditions() == null ? new ArrayList<>() : new ArrayList<>(s.getConditions()));
        c.setProgress(s.getProgress());
        c.setTimings(s.getTimings());
        c.setTargets(s.getTargets());
        c.setPods(s.getPods() == null ? new ArrayList<>() : new ArrayList<>(s.getPods()));
        c.setBucketSizeBytes(s.getBucketSizeBytes());
        c.setStartTime(s.getStartTime());
        c.setCompletionTime(s.getCompletionTime());
        return c;
    }
}
