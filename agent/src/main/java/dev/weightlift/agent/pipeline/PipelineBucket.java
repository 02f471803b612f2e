package dev.weightlift.agent.pipeline;

import dev.weightlift.agent.engine.TensorEntry;
import java.util.List;
import java.util.Objects;

/**
 * One bucket as one GPU's pipeline sees it. {@code tensors} carry offsets relative to the bucket's start;
 * {@code ranges} fill the bucket from the host store and are present only on the rank that owns it
 * ({@code root}; 0 without a collective). {@code crc32} is the CRC-32 of the tensors' bytes in list order,
 * or null when the update is not verified.
 */
public record PipelineBucket(int index, int root, long bytes, List<CopyRange> ranges, List<TensorEntry> tensors,
        Long crc32) {

    public PipelineBucket {
        ranges = List.copyOf(ranges);
        tensors = List.copyOf(tensors);
        Objects.requireNonNull(tensors, "tensors");
        for (TensorEntry t : tensors) {
            if (t.offset() < 0 || t.offset() + t.nbytes() > bytes) {
                throw new IllegalArgumentException("bucket " + index + ": tensor " + t + " of " + t.nbytes()
                        + " bytes lies outside the bucket's " + bytes + " bytes");
            }
        }
        for (CopyRange r : ranges) {
            if (r.bucketOffset() + r.length() > bytes) {
                throw new IllegalArgumentException("bucket " + index + ": copy range " + r + " ends past the bucket's "
                        + bytes + " bytes");
            }
        }
    }

    /** The largest tensor, for error messages. */
    TensorEntry largestTensor() {
        TensorEntry largest = null;
        for (TensorEntry t : tensors) {
            if (largest == null || t.nbytes() > largest.nbytes()) {
                largest = t;
            }
        }
        return largest;
    }

    /** The tensor list as the worker sees it: offsets into the shared buffer, where this bucket lies at {@code base}. */
    List<TensorEntry> tensorsAt(long base) {
        return tensors.stream().map(t -> new TensorEntry(t.name(), t.dtype(), t.shape(), base + t.offset(), t.nbytes()))
                .toList();
    }
}
