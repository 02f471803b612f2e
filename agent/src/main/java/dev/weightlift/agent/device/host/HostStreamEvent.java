package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.StreamEvent;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A point in a {@link HostCopyStream}'s queue, completed by the stream's worker when it gets there. */
final class HostStreamEvent implements StreamEvent {

    private final CountDownLatch done = new CountDownLatch(1);

    void complete() {
        done.countDown();
    }

    @Override
    public boolean isDone() {
        return done.getCount() == 0;
    }

    @Override
    public boolean await(Duration timeout) {
        try {
            return done.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() {
        // an event holds no native resource on the host backend
    }
}
