package dev.weightlift.agent.pipeline;

import dev.weightlift.agent.engine.TensorEntry;
import dev.weightlift.agent.store.CheckpointVersion;
import dev.weightlift.agent.store.TensorLocation;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * For tests and the benchmark: lays out a bucket (its tensor names, in order) over a checkpoint version of the
 * host store the way the operator's planner does (each tensor at the next 256-byte boundary), with one copy
 * range per tensor. In the agent, buckets come laid out from the plan.
 */
final class BucketLayout {

    static final int ALIGNMENT = 256;

    private BucketLayout() {
    }

    /**
     * The bucket {@code index} as the owning rank sees it ({@code ranges} filled from {@code version});
     * {@code withChecksum} adds the CRC-32 of the tensors' bytes (read from host memory).
     *
     * @throws IllegalArgumentException naming the tensor when it is not in the version
     */
    static PipelineBucket owned(CheckpointVersion version, int index, int root, List<String> tensorNames,
            boolean withChecksum) {
        List<CopyRange> ranges = new ArrayList<>();
        List<TensorEntry> entries = new ArrayList<>();
        CRC32 crc = new CRC32();
        long at = 0;
        for (String name : tensorNames) {
            TensorLocation t = version.tensor(name).orElseThrow(() -> new IllegalArgumentException("bucket " + index
                    + ": tensor '" + name + "' is not in checkpoint " + version.name() + " version " + version.version()));
            at = align(at);
            if (t.nbytes() > 0) {
                ranges.add(new CopyRange(version.buffers().get(t.buffer()), t.offset(), at, t.nbytes()));
            }
            entries.add(new TensorEntry(t.name(), t.dtype().name(), t.shape(), at, t.nbytes()));
            if (withChecksum) {
                update(crc, version, t);
            }
            at += t.nbytes();
        }
        return new PipelineBucket(index, root, at, ranges, entries, withChecksum ? crc.getValue() : null);
    }

    static long align(long offset) {
        return (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static void update(CRC32 crc, CheckpointVersion version, TensorLocation t) {
        long done = 0;
        while (done < t.nbytes()) {
            int chunk = (int) Math.min(1 << 30, t.nbytes() - done);
            ByteBuffer view = version.buffers().get(t.buffer()).view(t.offset() + done, chunk);
            crc.update(view);
            done += chunk;
        }
    }
}
