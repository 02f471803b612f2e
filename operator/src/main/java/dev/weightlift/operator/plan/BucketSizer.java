package dev.weightlift.operator.plan;

import java.util.List;

/**
 * Bucket size and buffer layout. Baseline is checkpoint-engine's rule (reference section 7.1): the
 * smallest free memory x fraction over participants, a third of it per buffer when a staging buffer
 * fits the largest tensor, half of it otherwise, and min(max(cap, largest tensor), budget). Two
 * changes: a last fallback to a single buffer before failing, and the pipeline rule (see
 * {@link SizingPolicy#pipelineBuckets()}): big buckets make filling and draining the three-stage
 * pipeline expensive, so the size is also capped at total / pipelineBuckets (never below the largest
 * unit nor the policy's floor).
 */
public final class BucketSizer {

    private static final BufferLayout[] LAYOUTS = {
        BufferLayout.STAGED_DOUBLE_BUFFER, BufferLayout.DOUBLE_BUFFER, BufferLayout.SINGLE_BUFFER};

    private BucketSizer() {
    }

    /**
     * @param gpus         every GPU that allocates update buffers
     * @param totalBytes   aligned bytes of the whole checkpoint
     * @param largestUnit  the largest tensor or group (what one bucket must hold)
     */
    public static BucketSizing size(List<Participant> gpus, long totalBytes, TensorGrouping.Unit largestUnit,
                                    SizingPolicy policy) {
        if (gpus.isEmpty()) {
            throw new PlanException("no participating GPUs to size buckets for");
        }
        Participant tightest = gpus.get(0);
        for (Participant p : gpus) {
            if (p.freeMemoryBytes() < tightest.freeMemoryBytes()) {
                tightest = p;
            }
        }
        long usable = floorAligned((long) (tightest.freeMemoryBytes() * policy.memoryFraction()));
        long unit = largestUnit == null ? 0 : largestUnit.alignedBytes();
        String unitName = largestUnit == null ? "" : largestUnit.label();
        int pipelineBuckets = policy.pipelineBuckets();

        if (policy.bucketBytesOverride() > 0) {
            long bucket = TensorMeta.align(policy.bucketBytesOverride());
            if (bucket < unit) {
                throw new PlanException("spec.bucketSize " + bucket + " bytes is smaller than the largest "
                        + unitName + " (" + unit + " bytes)");
            }
            for (BufferLayout layout : LAYOUTS) {
                if (bucket * layout.buffers() <= usable) {
                    return new BucketSizing(bucket, layout, bucket * layout.buffers(), usable, tightest.id(), unit,
                            unitName, pipelineBuckets, "override");
                }
            }
            throw new PlanException("spec.bucketSize " + bucket + " bytes does not fit on " + tightest.id()
                    + ": " + tightest.freeMemoryBytes() + " bytes free x memoryFraction " + policy.memoryFraction()
                    + " = " + usable + " bytes");
        }

        for (BufferLayout layout : LAYOUTS) {
            long budget = floorAligned(usable / layout.buffers());
            if (unit > budget) {
                continue;
            }
            long bucket = Math.max(policy.maxBucketBytes(), unit);
            String limitedBy = unit > policy.maxBucketBytes() ? "largest-unit" : "cap";
            long pipelineCap = Math.max(TensorMeta.align(ceilDiv(totalBytes, pipelineBuckets)),
                    policy.minBucketBytes());
            if (pipelineCap < bucket) {
                bucket = Math.max(pipelineCap, unit);
                limitedBy = bucket == unit ? "largest-unit" : "pipeline";
            }
            if (budget < bucket) {
                bucket = budget;
                limitedBy = "memory";
            }
            bucket = TensorMeta.align(bucket);
            return new BucketSizing(bucket, layout, bucket * layout.buffers(), usable, tightest.id(), unit,
                    unitName, pipelineBuckets, limitedBy);
        }
        throw new PlanException("the largest " + unitName + " (" + unit + " bytes) does not fit in GPU memory of "
                + tightest.id() + ": " + tightest.freeMemoryBytes() + " bytes free x memoryFraction "
                + policy.memoryFraction() + " = " + usable + " bytes");
    }

    private static long floorAligned(long bytes) {
        return bytes / TensorMeta.ALIGNMENT * TensorMeta.ALIGNMENT;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
