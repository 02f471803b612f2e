package dev.weightlift.operator.flow;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Never two updates into one engine at once: an execution leases its pods before it sends anything; a
 * newer execution that needs a leased pod cancels the holder and waits for it to have stopped (its agents
 * acknowledged the abort) before it takes the lease.
 */
final class EngineLeases {

    /** What holds a lease: cancellable, and done once nothing of it runs any more. */
    interface Holder {
        String name();

        void cancel(String reason);

        CompletableFuture<Void> stopped();
    }

    private final Map<String, Holder> leases = new HashMap<>();

    /**
     * Takes {@code pods} for {@code holder}, first cancelling and awaiting (at most {@code wait}) every other
     * holder of one of them.
     *
     * @throws TimeoutException when an older holder did not stop in time (nothing is leased then)
     */
    void acquire(Holder holder, List<String> pods, Duration wait) throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            Set<Holder> others = new LinkedHashSet<>();
            synchronized (this) {
                for (String pod : pods) {
                    Holder current = leases.get(pod);
                    if (current != null && current != holder) {
                        others.add(current);
                    }
                }
                if (others.isEmpty()) {
                    pods.forEach(pod -> leases.put(pod, holder));
                    return;
                }
            }
            for (Holder other : others) {
                other.cancel("superseded by " + holder.name());
                try {
                    other.stopped().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (ExecutionException e) {
                    // it stopped by failing: good enough
                } catch (TimeoutException e) {
                    throw new TimeoutException("the earlier update " + other.name() + " did not stop within " + wait.toSeconds() + " s");
                }
                release(other);
            }
        }
    }

    synchronized void release(Holder holder) {
        for (String pod : new ArrayList<>(leases.keySet())) {
            if (leases.get(pod) == holder) {
                leases.remove(pod);
            }
        }
    }
}
