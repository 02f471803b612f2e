package dev.weightlift.agent.pipeline;

import java.time.Duration;
import java.util.Objects;

/**
 * How one GPU's pipeline runs.
 *
 * @param slotBytes      size of one slot of the double-buffered shared buffer (the bucket size)
 * @param overlap        true: H2D of bucket g+1 overlaps the publish of g and the load of g-1; false:
 *                       checkpoint-engine's schedule (H2D, then publish, only the load overlapped); for
 *                       buckets read in place, whether the worker maps the next buckets' pages ahead of its loads
 * @param staging        where H2D copies go (see {@link Staging})
 * @param connectTimeout how long the engine worker may take to connect
 * @param stepTimeout    deadline of every other wait (a copy, a broadcast, an ack, release)
 * @param finishTimeout  deadline of the engine's post-load processing
 * @param retainBuffers  keep the shared and staging buffers for the next update (see {@link BufferCache})
 * @param abortGrace     after an abort the worker did not confirm, how long the shared buffer stays mapped
 *                       at most while the engine's call has not returned (the worker may still read it)
 * @param inPlace        let the engine worker read host-store bytes in place where it can (see
 *                       {@link HostBufferLayout}) instead of having them copied into the shared buffer
 */
public record PipelineOptions(long slotBytes, boolean overlap, Staging staging, Duration connectTimeout,
        Duration stepTimeout, Duration finishTimeout, boolean retainBuffers, Duration abortGrace, boolean inPlace) {

    /**
     * {@code ALWAYS}: a staging buffer on the GPU (3 bucket sizes of GPU memory), so H2D of the next bucket
     * runs while the slot is broadcast; {@code NEVER}: H2D straight into the slot (2 bucket sizes;
     * checkpoint-engine's low-memory fallback); {@code AUTO}: staging only when there is a broadcast to
     * overlap (more than one rank) or the overlap is off.
     */
    public enum Staging {
        AUTO, ALWAYS, NEVER
    }

    public PipelineOptions {
        Objects.requireNonNull(staging, "staging");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(stepTimeout, "stepTimeout");
        Objects.requireNonNull(finishTimeout, "finishTimeout");
        Objects.requireNonNull(abortGrace, "abortGrace");
        if (slotBytes <= 0) {
            throw new IllegalArgumentException("slot size must be positive, got " + slotBytes);
        }
    }

    public static PipelineOptions defaults(long slotBytes) {
        return new PipelineOptions(slotBytes, true, Staging.AUTO, Duration.ofSeconds(60), Duration.ofSeconds(120),
                Duration.ofSeconds(600), false, Duration.ofSeconds(10), true);
    }

    public PipelineOptions withOverlap(boolean on) {
        return new PipelineOptions(slotBytes, on, staging, connectTimeout, stepTimeout, finishTimeout, retainBuffers, abortGrace, inPlace);
    }

    public PipelineOptions withStaging(Staging mode) {
        return new PipelineOptions(slotBytes, overlap, mode, connectTimeout, stepTimeout, finishTimeout, retainBuffers, abortGrace, inPlace);
    }

    public PipelineOptions withTimeouts(Duration connect, Duration step, Duration finish) {
        return new PipelineOptions(slotBytes, overlap, staging, connect, step, finish, retainBuffers, abortGrace, inPlace);
    }

    public PipelineOptions withRetainedBuffers(boolean retain) {
        return new PipelineOptions(slotBytes, overlap, staging, connectTimeout, stepTimeout, finishTimeout, retain, abortGrace, inPlace);
    }

    public PipelineOptions withAbortGrace(Duration grace) {
        return new PipelineOptions(slotBytes, overlap, staging, connectTimeout, stepTimeout, finishTimeout, retainBuffers,
                grace, inPlace);
    }

    public PipelineOptions withInPlace(boolean on) {
        return new PipelineOptions(slotBytes, overlap, staging, connectTimeout, stepTimeout, finishTimeout, retainBuffers,
                abortGrace, on);
    }

    boolean usesStaging(int ranks) {
        return switch (staging) {
            case ALWAYS -> true;
            case NEVER -> false;
            case AUTO -> ranks > 1 || !overlap;
        };
    }
}
