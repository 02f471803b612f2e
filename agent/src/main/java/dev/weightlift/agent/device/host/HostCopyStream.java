package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.CopyFailedException;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.NativeMemory;
import dev.weightlift.agent.device.StreamEvent;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A CUDA stream stand-in: one worker thread running memcpy tasks in the order they were enqueued. The first
 * failed copy makes the stream failed (as CUDA errors are sticky): later copies are skipped, events still
 * complete but rethrow it from {@code await}, and every {@link #synchronize()} rethrows it.
 */
public final class HostCopyStream implements CopyStream {

    private static final Duration WAIT_SLICE = Duration.ofMillis(50);

    private final String name;
    private final Duration syncTimeout;
    private final ExecutorService worker;
    private volatile Throwable failure;
    private volatile boolean closing;

    HostCopyStream(String name, Duration syncTimeout) {
        this.name = name;
        this.syncTimeout = syncTimeout;
        this.worker = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "copy-stream-" + name);
            thread.setDaemon(true);
            return thread;
        });
    }

    @Override
    public void copy(MemoryRegion src, long srcOffset, MemoryRegion dst, long dstOffset, long length) {
        HostRegion from = hostRegion(src, "source");
        HostRegion to = hostRegion(dst, "destination");
        from.checkRange(srcOffset, length);
        to.checkRange(dstOffset, length);
        if (to.readOnly()) {
            throw new IllegalArgumentException(name + ": destination " + to + " is read-only");
        }
        enqueue(() -> {
            from.checkRange(srcOffset, length);
            to.checkRange(dstOffset, length);
            NativeMemory.copy(from.address() + srcOffset, to.address() + dstOffset, length);
        });
    }

    /**
     * Enqueues work other than a memcpy (a host-backend transfer, say) in the stream's order: it starts after
     * everything enqueued before it and fails the stream the way a failed copy does. Skipped on a failed stream.
     */
    public void enqueue(Runnable task) {
        submit(() -> {
            if (failure != null) {
                return;
            }
            try {
                task.run();
            } catch (RuntimeException e) {
                failure = e;
            }
        });
    }

    @Override
    public StreamEvent record() {
        HostStreamEvent event = new HostStreamEvent(name);
        submit(() -> event.complete(failure));
        return event;
    }

    @Override
    public void waitFor(StreamEvent event) {
        if (!(event instanceof HostStreamEvent other)) {
            throw new IllegalArgumentException(name + ": cannot wait for " + event + ", which is not a host backend event");
        }
        submit(() -> {
            try {
                while (!other.await(WAIT_SLICE)) {
                    if (closing) {
                        failure = new IllegalStateException("stream " + name + " closed while waiting for an event");
                        return;
                    }
                }
            } catch (CopyFailedException e) {
                failure = e;
            }
        });
    }

    @Override
    public void synchronize() {
        StreamEvent end = record();
        if (!end.await(syncTimeout)) {
            throw new CopyFailedException("stream " + name + " did not drain within " + syncTimeout, null);
        }
        Throwable failed = failure;
        if (failed != null) {
            throw new CopyFailedException("a copy on stream " + name + " failed: " + failed.getMessage(), failed);
        }
    }

    @Override
    public void close() {
        closing = true;
        worker.shutdown();
        try {
            if (!worker.awaitTermination(syncTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                worker.shutdownNow();
            }
        } catch (InterruptedException e) {
            worker.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private void submit(Runnable task) {
        try {
            worker.execute(task);
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException("stream " + name + " is closed", e);
        }
    }

    private HostRegion hostRegion(MemoryRegion region, String role) {
        if (region instanceof HostRegion host) {
            return host;
        }
        throw new IllegalArgumentException(name + ": " + role + " " + region + " is not memory of the host backend");
    }

    @Override
    public String toString() {
        return name;
    }
}
