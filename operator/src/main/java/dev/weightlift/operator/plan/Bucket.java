package dev.weightlift.operator.plan;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * A run of one owner's tensors that travels as one unit through the pipeline.
 *
 * @param index   position in the plan's bucket list
 * @param owner   participant id of the owner whose host store holds the bytes
 * @param bytes   bytes used in the bucket (tensor slots are 256-aligned)
 * @param tensors the tensors, with their offsets inside the bucket (what the engine worker is told)
 * @param copies  the byte ranges to copy from the owner's host buffers into the bucket, merged where
 *                both sides are contiguous
 */
public record Bucket(int index, String owner, long bytes, List<Slot> tensors, List<CopyRange> copies) {

    public Bucket {
        tensors = List.copyOf(tensors);
        copies = List.copyOf(copies);
    }

    /**
     * A tensor's place in a bucket.
     *
     * @param group the grouping key when the tensor belongs to a group, absent otherwise
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Slot(String name, String dtype, List<Long> shape, long bytes, long offset, String group) {
        public Slot {
            shape = List.copyOf(shape);
        }
    }

    /** {@code length} bytes from {@code buffer} at {@code sourceOffset} to the bucket at {@code bucketOffset}. */
    public record CopyRange(String buffer, long sourceOffset, long bucketOffset, long length) {
    }
}
