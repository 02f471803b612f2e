package dev.weightlift.operator.reconciler.scaleup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.PodResult.State;
import dev.weightlift.api.v1alpha1.Targets;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateStatus;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionResult;
import dev.weightlift.operator.status.ConditionFactory;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The status of a succeeded update while pods join. */
class ScaleUpStatusTest {

    private final ScaleUpStatus factory = new ScaleUpStatus(new ConditionFactory(Clock.fixed(Instant.parse("2026-01-01T12:00:00Z"), ZoneOffset.UTC)));

    @Test
    void thePodsSelectedNowMakeTheListAndCountsWhileTheFleetsRunStays() {
        WeightUpdate update = succeeded(List.of(
                ScaleUpStatus.entry("llm-0", "node-a", List.of("GPU-a0"), State.Updated, "v1", null),
                ScaleUpStatus.entry("llm-1", "node-b", List.of("GPU-b0"), State.Updated, "v1", null),
                ScaleUpStatus.entry("llm-2", "node-c", List.of("GPU-c0"), State.Updating, null, "filling by P2P from node node-a"),
                ScaleUpStatus.entry("llm-gone", "node-c", List.of(), State.Updated, "v1", null)));

        WeightUpdateStatus status = factory.status(update, List.of(
                ScaleUpStatus.entry("llm-0", "node-a", List.of(), State.Updated, "v1", null),
                ScaleUpStatus.entry("llm-1", "node-b", List.of(), State.Updated, "v1", null),
                ScaleUpStatus.entry("llm-2", "node-c", List.of(), State.Updated, "v1", "filled by P2P from node node-a"),
                ScaleUpStatus.entry("llm-3", "node-c", List.of(), State.Updating, null, "filling by P2P from node node-a"),
                ScaleUpStatus.entry("llm-4", "node-d", List.of(), State.Failed, null, "TransferError: connection reset")));

        assertEquals(Phase.Succeeded, status.getPhase());
        assertEquals(1L, status.getObservedGeneration());
        assertEquals("2026-01-01T11:00:00Z", status.getCompletionTime());
        assertEquals(new Targets(5, 3, 1), status.getTargets());
        assertEquals(List.of("llm-0", "llm-1", "llm-2", "llm-3", "llm-4"), status.getPods().stream().map(PodResult::getName).toList());
        assertEquals(List.of("GPU-a0"), status.getPods().get(0).getGpus());
        assertEquals(List.of("GPU-c0"), status.getPods().get(2).getGpus());
        assertEquals("filled by P2P from node node-a", status.getPods().get(2).getMessage());
        assertCondition(status, ConditionFactory.READY, "True", "Succeeded", "3 of 5 pods hold version v1");
        assertCondition(status, ConditionFactory.PROGRESSING, "True", ScaleUpStatus.SCALING_UP,
                "filling 1 pod with version v1: llm-3; 3 of 5 pods hold version v1");
        assertCondition(status, ConditionFactory.DEGRADED, "True", ScaleUpStatus.SCALE_UP_FAILED,
                "scale-up failed for 1 pod: llm-4: TransferError: connection reset");
    }

    @Test
    void aPodThatKeepsItsVersionKeepsHowItWasFilled() {
        WeightUpdate update = succeeded(List.of(
                ScaleUpStatus.entry("llm-2", "node-c", List.of("GPU-c0"), State.Updated, "v1", "filled by P2P from node node-a")));

        WeightUpdateStatus status = factory.status(update, List.of(ScaleUpStatus.entry("llm-2", "node-c", List.of(), State.Updated, "v1", null)));

        assertEquals("filled by P2P from node node-a", status.getPods().get(0).getMessage());
        assertCondition(status, ConditionFactory.PROGRESSING, "False", "Succeeded", "1 of 1 pods hold version v1");
        assertCondition(status, ConditionFactory.DEGRADED, "False", "AsExpected", "");
    }

    private static WeightUpdate succeeded(List<PodResult> pods) {
        WeightUpdate update = Updates.update("u", "v1", "llm", 0, Phase.Succeeded, 1);
        update.getStatus().setPods(new ArrayList<>(pods));
        update.getStatus().setCompletionTime("2026-01-01T11:00:00Z");
        return update;
    }

    private static void assertCondition(WeightUpdateStatus status, String type, String value, String reason, String message) {
        Condition condition = ConditionFactory.find(status.getConditions(), type).orElseThrow();
        assertEquals(List.of(value, reason, message), List.of(condition.getStatus(), condition.getReason(), condition.getMessage()), type);
    }

    @Test
    void saysHowTheWeightsArrivedFromTheResult() {
        assertEquals("by P2P from nodes a, b (100 B)", ScaleUpStatus.arrived(new ExecutionResult.Arrival(List.of("a", "b"), 100, 0, 0, 0),
                "n", "/ckpt"));
        assertEquals("by P2P from node b (60 B); node n held 40 B of it already",
                ScaleUpStatus.arrived(new ExecutionResult.Arrival(List.of("b"), 60, 0, 0, 40), "n", "/ckpt"));
        assertEquals("from the checkpoint source /ckpt (100 B of 1 tensor no holder has)",
                ScaleUpStatus.arrived(new ExecutionResult.Arrival(List.of(), 0, 100, 1, 0), "n", "/ckpt"));
        assertEquals("by P2P from node a (60 B) and from the checkpoint source /ckpt (30 B of 3 tensors no holder has); node n held 10 B"
                + " of it already", ScaleUpStatus.arrived(new ExecutionResult.Arrival(List.of("a"), 60, 30, 3, 10), "n", "/ckpt"));
        assertEquals("from the host memory of node n (node n held 100 B of it already)",
                ScaleUpStatus.arrived(new ExecutionResult.Arrival(List.of(), 0, 0, 0, 100), "n", "/ckpt"));
        assertTrue(new ExecutionResult.Arrival(List.of(), 0, 100, 1, 0).fromSource());
        assertFalse(new ExecutionResult.Arrival(List.of("a"), 60, 30, 3, 10).fromSource());
    }
}
