package dev.weightlift.operator.reconciler.scaleup;

import java.time.Duration;
import java.util.Objects;

/**
 * How pods that join later are filled.
 *
 * @param executor the scale-up data plane
 * @param probe asks whether a new pod's engine is up
 * @param probeInterval how soon a pod whose engine did not answer (or whose node has no agent yet) is looked at again
 * @param firstRetry the wait before a failed scale-up is tried again; it doubles with every further failure
 * @param maxRetry the longest wait between attempts
 */
public record ScaleUpConfig(P2pExecutor executor, EngineProbe probe, Duration probeInterval, Duration firstRetry, Duration maxRetry) {

    public ScaleUpConfig {
        Objects.requireNonNull(executor, "executor");
        Objects.requireNonNull(probe, "probe");
        if (probeInterval.isNegative() || probeInterval.isZero() || firstRetry.isNegative() || firstRetry.isZero()
                || maxRetry.compareTo(firstRetry) < 0) {
            throw new IllegalArgumentException("scale-up intervals must be positive and maxRetry at least firstRetry: probeInterval="
                    + probeInterval + " firstRetry=" + firstRetry + " maxRetry=" + maxRetry);
        }
    }

    /** HTTP health probes with a 2 s deadline every 5 s; retries after 30 s, doubling up to 10 min. */
    public static ScaleUpConfig defaults(P2pExecutor executor) {
        return new ScaleUpConfig(executor, new HttpEngineProbe(Duration.ofSeconds(2)), Duration.ofSeconds(5), Duration.ofSeconds(30),
                Duration.ofMinutes(10));
    }

    /** The wait before attempt {@code failures + 1}. */
    Duration retryAfter(int failures) {
        Duration wait = firstRetry;
        for (int i = 1; i < failures && wait.compareTo(maxRetry) < 0; i++) {
            wait = wait.multipliedBy(2);
        }
        return wait.compareTo(maxRetry) > 0 ? maxRetry : wait;
    }
}
