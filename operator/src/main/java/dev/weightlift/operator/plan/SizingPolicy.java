package dev.weightlift.operator.plan;

/**
 * How bucket size is chosen.
 *
 * @param memoryFraction      share of each GPU's free memory the update may use (checkpoint-engine: 0.9)
 * @param maxBucketBytes      cap before the memory and pipeline rules (checkpoint-engine: 8 GiB)
 * @param bucketBytesOverride the CR's {@code spec.bucketSize}; 0 = automatic
 * @param pipelineStages      stages that overlap per bucket (load, broadcast, reload: 3)
 * @param pipelineEfficiency  share of the pipeline's bound that fill and drain may leave (0.95)
 * @param minBucketBytes      floor of the pipeline rule, so per-bucket overheads stay small
 */
public record SizingPolicy(double memoryFraction, long maxBucketBytes, long bucketBytesOverride, int pipelineStages,
                           double pipelineEfficiency, long minBucketBytes) {

    public static final long GIB = 1L << 30;
    public static final long MIB = 1L << 20;

    public SizingPolicy {
        if (!(memoryFraction > 0 && memoryFraction <= 1)) {
            throw new PlanException("memoryFraction must be in (0, 1], got " + memoryFraction);
        }
        if (maxBucketBytes <= 0 || bucketBytesOverride < 0 || minBucketBytes <= 0) {
            throw new PlanException("bucket sizes must be positive: maxBucketBytes=" + maxBucketBytes
                    + " bucketBytesOverride=" + bucketBytesOverride + " minBucketBytes=" + minBucketBytes);
        }
        if (pipelineStages < 1 || !(pipelineEfficiency > 0 && pipelineEfficiency < 1)) {
            throw new PlanException("pipelineStages must be >= 1 and pipelineEfficiency in (0, 1), got "
                    + pipelineStages + " and " + pipelineEfficiency);
        }
    }

    public static SizingPolicy defaults() {
        return new SizingPolicy(0.9, 8 * GIB, 0, 3, 0.95, 64 * MIB);
    }

    /**
     * The policy from the CR's optional {@code spec.bucketSize} (e.g. {@code 2Gi}; suffixes Ki, Mi, Gi)
     * and {@code spec.memoryFraction}; absent values keep the defaults.
     */
    public static SizingPolicy fromSpec(String bucketSize, Double memoryFraction) {
        SizingPolicy policy = defaults();
        if (memoryFraction != null) {
            policy = policy.withMemoryFraction(memoryFraction);
        }
        if (bucketSize != null && !bucketSize.isBlank()) {
            policy = policy.withBucketBytes(parseSize(bucketSize.trim()));
        }
        return policy;
    }

    private static long parseSize(String text) {
        long unit = 1;
        String digits = text;
        if (text.endsWith("Ki") || text.endsWith("Mi") || text.endsWith("Gi")) {
            unit = switch (text.charAt(text.length() - 2)) {
                case 'K' -> 1L << 10;
                case 'M' -> MIB;
                default -> GIB;
            };
            digits = text.substring(0, text.length() - 2);
        }
        try {
            long value = Long.parseLong(digits);
            if (value <= 0 || value > Long.MAX_VALUE / unit) {
                throw new NumberFormatException();
            }
            return value * unit;
        } catch (NumberFormatException e) {
            throw new PlanException("spec.bucketSize '" + text + "' is not a positive size such as 2Gi, 512Mi or 1048576");
        }
    }

    public SizingPolicy withBucketBytes(long bytes) {
        return new SizingPolicy(memoryFraction, maxBucketBytes, bytes, pipelineStages, pipelineEfficiency,
                minBucketBytes);
    }

    public SizingPolicy withMemoryFraction(double fraction) {
        return new SizingPolicy(fraction, maxBucketBytes, bucketBytesOverride, pipelineStages, pipelineEfficiency,
                minBucketBytes);
    }

    /**
     * Buckets needed so that filling and draining an S-stage pipeline costs at most (1 - efficiency) of
     * the run: a pipeline over N equal steps takes about N + S - 1 step times, so
     * N / (N + S - 1) >= efficiency needs N >= (S - 1) * efficiency / (1 - efficiency) (38 for 3 and 0.95).
     */
    public int pipelineBuckets() {
        return (int) Math.ceil((pipelineStages - 1) * pipelineEfficiency / (1 - pipelineEfficiency) - 1e-9);
    }
}
