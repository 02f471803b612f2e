package dev.weightlift.operator.plan;

import static dev.weightlift.operator.plan.Fixtures.gpu;
import static dev.weightlift.operator.plan.SizingPolicy.GIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BucketSizerTest {

    private static TensorGrouping.Unit unit(long bytes) {
        return new TensorGrouping.Unit(null, List.of(Fixtures.tensor("model.embed_tokens.weight", bytes, "f", 0)));
    }

    @Test
    void checkpointEngineRuleOnH800SizedMemory() {
        // 80 GB free, fraction 0.9: 72 GB usable, a third is 24 GB > 8 GiB cap; a 1 TB model needs no pipeline cap
        BucketSizing s = BucketSizer.size(List.of(gpu("a", 0, 80_000_000_000L), gpu("b", 0, 81_000_000_000L)),
                1_000_000_000_000L, unit(2 * GIB), SizingPolicy.defaults());
        assertEquals(8 * GIB, s.bucketBytes());
        assertEquals(BufferLayout.STAGED_DOUBLE_BUFFER, s.layout());
        assertEquals("cap", s.limitedBy());
        assertEquals("a/gpu0", s.tightestGpu());
        assertEquals(24 * GIB, s.gpuBytesPerGpu());
    }

    @Test
    void memoryLimitsToAThirdOfTheTightestGpu() {
        BucketSizing s = BucketSizer.size(List.of(gpu("a", 0, 20 * GIB), gpu("a", 1, 9 * GIB)),
                1_000_000_000_000L, unit(GIB), SizingPolicy.defaults());
        long usable = (long) (9 * GIB * 0.9) / 256 * 256;
        assertEquals(usable / 3 / 256 * 256, s.bucketBytes());
        assertEquals("memory", s.limitedBy());
        assertEquals("a/gpu1", s.tightestGpu());
    }

    @Test
    void pipelineRuleCapsBucketsForSmallModels() {
        // 2 GPUs, 60 GiB model: 8 GiB buckets would be 8 steps; the rule asks for 38
        BucketSizing s = BucketSizer.size(List.of(gpu("a", 0, 140 * GIB), gpu("a", 1, 140 * GIB)), 60 * GIB,
                unit(GIB / 2), SizingPolicy.defaults());
        assertEquals(38, s.pipelineBuckets());
        assertEquals("pipeline", s.limitedBy());
        assertEquals(TensorMeta.align((60 * GIB + 37) / 38), s.bucketBytes());
        assertTrue(60 * GIB / s.bucketBytes() >= 37);
    }

    @Test
    void pipelineRuleNeverGoesBelowTheLargestUnit() {
        BucketSizing s = BucketSizer.size(List.of(gpu("a", 0, 140 * GIB)), 20 * GIB, unit(3 * GIB),
                SizingPolicy.defaults());
        assertEquals(3 * GIB, s.bucketBytes());
        assertEquals("largest-unit", s.limitedBy());
    }

    @Test
    void fallsBackToTwoBuffersThenOne() {
        long free = 10 * GIB;
        BucketSizing two = BucketSizer.size(List.of(gpu("a", 0, free)), 100 * GIB, unit(4 * GIB),
                SizingPolicy.defaults());
        assertEquals(BufferLayout.DOUBLE_BUFFER, two.layout());
        BucketSizing one = BucketSizer.size(List.of(gpu("a", 0, free)), 100 * GIB, unit(6 * GIB),
                SizingPolicy.defaults());
        assertEquals(BufferLayout.SINGLE_BUFFER, one.layout());
        assertEquals(6 * GIB, one.bucketBytes() > 6 * GIB ? 6 * GIB : one.bucketBytes());
    }

    @Test
    void largestTensorThatCannotFitIsAPreciseError() {
        PlanException e = assertThrows(PlanException.class, () -> BucketSizer.size(
                List.of(gpu("node-7", 3, 5 * GIB), gpu("node-1", 0, 50 * GIB)), 100 * GIB, unit(5 * GIB),
                SizingPolicy.defaults()));
        assertTrue(e.getMessage().contains("tensor 'model.embed_tokens.weight' (5368709120 bytes)"), e.getMessage());
        assertTrue(e.getMessage().contains("node-7/gpu3: 5368709120 bytes free x memoryFraction 0.9"), e.getMessage());
    }

    @Test
    void overrideIsCheckedAgainstLargestUnitAndMemory() {
        List<Participant> gpus = List.of(gpu("a", 0, 10 * GIB));
        BucketSizing ok = BucketSizer.size(gpus, 100 * GIB, unit(GIB), SizingPolicy.defaults().withBucketBytes(2 * GIB));
        assertEquals(2 * GIB, ok.bucketBytes());
        assertEquals("override", ok.limitedBy());
        assertThrows(PlanException.class, () -> BucketSizer.size(gpus, 100 * GIB, unit(GIB),
                SizingPolicy.defaults().withBucketBytes(GIB / 2)), "smaller than the largest tensor");
        PlanException big = assertThrows(PlanException.class, () -> BucketSizer.size(gpus, 100 * GIB, unit(GIB),
                SizingPolicy.defaults().withBucketBytes(12 * GIB)));
        assertTrue(big.getMessage().startsWith("spec.bucketSize 12884901888 bytes does not fit on a/gpu0"),
                big.getMessage());
    }

    @Test
    void policyFromTheCrFields() {
        assertEquals(SizingPolicy.defaults(), SizingPolicy.fromSpec(null, null));
        SizingPolicy p = SizingPolicy.fromSpec("2Gi", 0.8);
        assertEquals(2 * GIB, p.bucketBytesOverride());
        assertEquals(0.8, p.memoryFraction());
        assertEquals(512 * SizingPolicy.MIB, SizingPolicy.fromSpec("512Mi", null).bucketBytesOverride());
        assertEquals(4096, SizingPolicy.fromSpec("4Ki", null).bucketBytesOverride());
        assertEquals(1_000_000, SizingPolicy.fromSpec("1000000", null).bucketBytesOverride());
        PlanException e = assertThrows(PlanException.class, () -> SizingPolicy.fromSpec("2GB", null));
        assertEquals("spec.bucketSize '2GB' is not a positive size such as 2Gi, 512Mi or 1048576", e.getMessage());
    }

    @Test
    void badPolicyNamesTheField() {
        PlanException e = assertThrows(PlanException.class, () -> SizingPolicy.defaults().withMemoryFraction(1.5));
        assertTrue(e.getMessage().contains("memoryFraction"));
    }
}
