package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.CopyFailedException;
import dev.weightlift.agent.device.StreamEvent;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A point in a {@link HostCopyStream}'s queue, completed by the stream's worker when it gets there, with the
 * stream's failure at that point (if a copy before it failed, {@link #await} rethrows it).
 */
final class HostStreamEvent implements StreamEvent {

    private final CountDownLatch done = new CountDownLatch(1);
    private final String stream;
    private volatile Throwable failure;

    HostStreamEvent(String stream) {
        this.stream = stream;
    }

    /** An event no stream completes: a gate a test opens with {@link #complete()}. */
    HostStreamEvent() {
        this("gate");
    }

    void complete() {
        complete(null);
    }

    void complete(Throwable failureBefore) {
        failure = failureBefore;
        done.countDown();
    }

    @Override
    public boolean isDone() {
        return done.getCount() == 0;
    }

    @Override
    public boolean await(Duration timeout) {
        boolean reached;
        try {
            reached = done.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        Throwable failed = failure;
        if (reached && failed != null) {
            throw new CopyFailedException("a copy on stream " + stream + " failed: " + failed.getMessage(), failed);
        }
        return reached;
    }

    @Override
    public void close() {
        // an event holds no native resource on the host backend
    }
}
