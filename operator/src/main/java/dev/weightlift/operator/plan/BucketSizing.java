package dev.weightlift.operator.plan;

/**
 * The chosen bucket size and buffer layout, with the figures that decided them.
 *
 * @param bucketBytes        bucket capacity (a multiple of 256)
 * @param layout             GPU buffers per participant
 * @param gpuBytesPerGpu     GPU memory every participant allocates: layout buffers x bucketBytes
 * @param usableFreeBytes    smallest free memory among participants x memory fraction
 * @param tightestGpu        the participant with that smallest free memory
 * @param largestUnitBytes   the largest tensor or group (aligned), which must fit in one bucket
 * @param largestUnit        its name
 * @param pipelineBuckets    buckets the pipeline rule asks for
 * @param limitedBy          what set the size: {@code cap}, {@code largest-unit}, {@code pipeline},
 *                           {@code memory} or {@code override}
 */
public record BucketSizing(long bucketBytes, BufferLayout layout, long gpuBytesPerGpu, long usableFreeBytes,
                           String tightestGpu, long largestUnitBytes, String largestUnit, int pipelineBuckets,
                           String limitedBy) {
}
