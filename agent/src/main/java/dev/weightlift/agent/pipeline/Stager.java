package dev.weightlift.agent.pipeline;

import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.StreamEvent;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.IntUnaryOperator;

/**
 * The H2D side of one GPU's pipeline with staging: the buckets this rank copies, in order, staged into the
 * staging buffers (two in turn when the overlap is on, so the next bucket's H2D starts the moment the current
 * one ends, without waiting for the current one's copy into the shared slot). A buffer is refilled once the
 * device-side copy out of it (its "drained" event) has run; the H2D stream waits for that, not the thread.
 */
final class Stager implements AutoCloseable {

    /** Enqueues the H2D copies of bucket {@code g} into {@code buffer}; the event marks their end. */
    interface Stage {
        StreamEvent enqueue(int g, MemoryRegion buffer);
    }

    record Staged(int bucket, int buffer, StreamEvent copied) {
    }

    private final List<MemoryRegion> buffers;
    private final CopyStream h2d;
    private final IntUnaryOperator nextCopied;
    private final Stage stage;
    private final StreamEvent[] drained;
    private final ArrayDeque<Staged> pending = new ArrayDeque<>();
    private final ArrayDeque<Integer> idle = new ArrayDeque<>();
    private int next;

    /** {@code nextCopied}: the first bucket after g this rank copies, or -1 (g = -1: the first). */
    Stager(List<MemoryRegion> buffers, CopyStream h2d, IntUnaryOperator nextCopied, Stage stage) {
        this.buffers = buffers;
        this.h2d = h2d;
        this.nextCopied = nextCopied;
        this.stage = stage;
        this.drained = new StreamEvent[buffers.size()];
        for (int b = 0; b < buffers.size(); b++) {
            idle.add(b);
        }
        this.next = nextCopied.applyAsInt(-1);
    }

    /** Enqueues the H2D of the next buckets into every idle buffer. */
    void fill() {
        while (next >= 0 && !idle.isEmpty()) {
            int buffer = idle.poll();
            if (drained[buffer] != null) {
                h2d.waitFor(drained[buffer]);
                drained[buffer].close();
                drained[buffer] = null;
            }
            pending.add(new Staged(next, buffer, stage.enqueue(next, buffers.get(buffer))));
            next = nextCopied.applyAsInt(next);
        }
    }

    Staged take(int g) {
        Staged staged = pending.poll();
        if (staged == null || staged.bucket() != g) {
            throw new IllegalStateException("bucket " + g + " was not staged (next staged: " + staged + ")");
        }
        return staged;
    }

    /** The buffer's contents are on their way out; {@code event} (null: nothing to copy) marks when it is free. */
    void drained(int buffer, StreamEvent event) {
        drained[buffer] = event;
        idle.add(buffer);
    }

    @Override
    public void close() {
        for (Staged staged : pending) {
            staged.copied().close();
        }
        for (StreamEvent event : drained) {
            if (event != null) {
                event.close();
            }
        }
    }
}
