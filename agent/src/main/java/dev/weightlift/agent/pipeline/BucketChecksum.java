package dev.weightlift.agent.pipeline;

import dev.weightlift.agent.engine.TensorEntry;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The CRC-32 a bucket carries under {@code verify: Checksum} ({@link PipelineBucket#crc32()}): over its tensors'
 * bytes in list order, read through the copy ranges that stage it from the host store, so on the owner it is
 * the checksum of exactly what the pipeline copies into the slot.
 */
public final class BucketChecksum {

    private static final int CHUNK = 1 << 30;

    private BucketChecksum() {
    }

    /** @throws IllegalArgumentException naming the tensor when {@code ranges} do not cover all of its bytes */
    public static long crc32(List<CopyRange> ranges, List<TensorEntry> tensors) {
        List<CopyRange> byOffset = ranges.stream().sorted(Comparator.comparingLong(CopyRange::bucketOffset)).toList();
        CRC32 crc = new CRC32();
        for (TensorEntry t : tensors) {
            long at = t.offset();
            long end = t.offset() + t.nbytes();
            for (CopyRange r : byOffset) {
                long from = Math.max(at, r.bucketOffset());
                long to = Math.min(end, r.bucketOffset() + r.length());
                if (from != at || to <= from) {
                    continue;
                }
                for (long done = from; done < to; ) {
                    int n = (int) Math.min(CHUNK, to - done);
                    crc.update(r.source().view(r.sourceOffset() + done - r.bucketOffset(), n));
                    done += n;
                }
                at = to;
            }
            if (at != end) {
                throw new IllegalArgumentException("tensor " + t.name() + ": bytes [" + at + ", " + end
                        + ") of the bucket are not staged by any copy range");
            }
        }
        return crc.getValue();
    }
}
