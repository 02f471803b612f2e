package dev.weightlift.operator.reconciler.scaleup;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/** When an update wants to be looked at again: the earliest of the times asked for during one reconcile. */
final class NextLook {

    private final Instant now;
    private final Clock clock;
    private Instant next;

    NextLook(Instant now, Clock clock) {
        this.now = now;
        this.clock = clock;
    }

    /** The reconcile's now. */
    Instant now() {
        return now;
    }

    void at(Instant when) {
        if (next == null || when.isBefore(next)) {
            next = when;
        }
    }

    /** No update of the resource; rescheduled for the earliest time asked for, if any. */
    UpdateControl<WeightUpdate> control() {
        if (next == null) {
            return UpdateControl.noUpdate();
        }
        Duration wait = Duration.between(clock.instant(), next);
        return UpdateControl.<WeightUpdate>noUpdate().rescheduleAfter(wait.isNegative() ? Duration.ofMillis(10) : wait);
    }
}
