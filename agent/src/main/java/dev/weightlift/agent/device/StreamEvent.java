package dev.weightlift.agent.device;

import java.time.Duration;

/** A point in a {@link CopyStream}'s queue. */
public interface StreamEvent extends AutoCloseable {

    boolean isDone();

    /**
     * Waits for the event at most {@code timeout}. A copy enqueued before the event that failed is rethrown
     * here (as by {@link CopyStream#synchronize()}), so waiting for one event never needs the whole stream.
     *
     * @return false when the deadline passed first
     */
    boolean await(Duration timeout);

    @Override
    void close();
}
