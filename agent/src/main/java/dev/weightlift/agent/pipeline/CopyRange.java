package dev.weightlift.agent.pipeline;

import dev.weightlift.agent.device.MemoryRegion;
import java.util.Objects;

/** {@code length} bytes at {@code sourceOffset} of a host-store region, destined for {@code bucketOffset} of a bucket. */
public record CopyRange(MemoryRegion source, long sourceOffset, long bucketOffset, long length) {

    public CopyRange {
        Objects.requireNonNull(source, "source");
        if (sourceOffset < 0 || bucketOffset < 0 || length <= 0 || sourceOffset + length > source.size()) {
            throw new IllegalArgumentException("copy range [" + sourceOffset + ", +" + length + ") -> bucket offset "
                    + bucketOffset + " does not lie inside " + source + " of " + source.size() + " bytes");
        }
    }
}
