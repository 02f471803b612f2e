package dev.weightlift.operator.reconciler.weightupdate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import org.junit.jupiter.api.Test;

class SupersedeCheckTest {

    @Test
    void updatesOfOneSecondAreOrderedByNameWithNumbersComparedAsNumbers() {
        assertTrue(SupersedeCheck.AGE.compare(update("step-9", "2026-01-01T00:00:00Z"), update("step-10", "2026-01-01T00:00:00Z")) < 0);
        assertTrue(SupersedeCheck.AGE.compare(update("step-10", "2026-01-01T00:00:00Z"), update("step-9", "2026-01-01T00:00:01Z")) < 0,
                "the timestamp comes first");
        assertTrue(SupersedeCheck.AGE.compare(update("b", "2026-01-01T00:00:00Z"), update("a", "2026-01-01T00:00:00Z")) > 0);
    }

    @Test
    void naturalOrderComparesDigitRunsByValue() {
        assertTrue(SupersedeCheck.compareNatural("run-2-step-99", "run-2-step-100") < 0);
        assertTrue(SupersedeCheck.compareNatural("step-007", "step-8") < 0);
        assertTrue(SupersedeCheck.compareNatural("step-1", "step-1a") < 0);
        assertEquals(0, SupersedeCheck.compareNatural("step-1", "step-1"));
        assertTrue(SupersedeCheck.compareNatural("step-01", "step-1") != 0, "different names never compare equal");
    }

    private static WeightUpdate update(String name, String created) {
        WeightUpdate update = new WeightUpdate();
        update.getMetadata().setName(name);
        update.getMetadata().setNamespace("ns");
        update.getMetadata().setCreationTimestamp(created);
        return update;
    }
}
