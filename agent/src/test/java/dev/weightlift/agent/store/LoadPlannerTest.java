package dev.weightlift.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.agent.store.safetensors.Dtype;
import dev.weightlift.agent.store.safetensors.SafetensorsException;
import dev.weightlift.agent.store.safetensors.SafetensorsHeader;
import dev.weightlift.agent.store.safetensors.TensorInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoadPlannerTest {

    /** A header whose tensors of the given byte sizes follow each other from a 64-byte header. */
    private static SafetensorsHeader header(String file, long... sizes) {
        List<TensorInfo> tensors = new ArrayList<>();
        long offset = 0;
        for (int i = 0; i < sizes.length; i++) {
            tensors.add(new TensorInfo(file + ".t" + i, Dtype.U8, new long[] {sizes[i]}, offset, offset + sizes[i]));
            offset += sizes[i];
        }
        return new SafetensorsHeader(file, 72, offset, Map.of(), tensors);
    }

    @Test
    void tensorsGetAlignedSlotsPackedIntoBuffers() throws SafetensorsException {
        LoadPlan plan = LoadPlanner.copyPlan(List.of(header("a", 100, 256, 1), header("b", 600, 0, 10)), 1024, 1 << 20);
        assertEquals(List.of(
                new TensorLocation("a.t0", Dtype.U8, new long[] {100}, 100, 0, 0),
                new TensorLocation("a.t1", Dtype.U8, new long[] {256}, 256, 0, 256),
                new TensorLocation("a.t2", Dtype.U8, new long[] {1}, 1, 0, 512),
                new TensorLocation("b.t0", Dtype.U8, new long[] {600}, 600, 1, 0),
                new TensorLocation("b.t1", Dtype.U8, new long[] {0}, 0, 1, 768),
                new TensorLocation("b.t2", Dtype.U8, new long[] {10}, 10, 1, 768)), plan.tensors());
        assertEquals(List.of(768L, 1024L), plan.bufferSizes());
        assertEquals(List.of(new BufferRange(0, 100, 156), new BufferRange(0, 513, 255), new BufferRange(1, 600, 168),
                new BufferRange(1, 778, 246)), plan.padding());
        assertEquals(List.of(new LoadPlan.Read(0, 72, 0, 0, 100), new LoadPlan.Read(0, 172, 0, 256, 257),
                new LoadPlan.Read(1, 72, 1, 0, 600), new LoadPlan.Read(1, 672, 1, 768, 10)), plan.reads());
    }

    @Test
    void aTensorLargerThanTheCapacityGetsABufferOfItsOwnAndReadsAreChunked() throws SafetensorsException {
        LoadPlan plan = LoadPlanner.copyPlan(List.of(header("a", 512, 5000, 256)), 1024, 2048);
        assertEquals(List.of(512L, 5120L, 256L), plan.bufferSizes());
        assertEquals(List.of(new LoadPlan.Read(0, 72, 0, 0, 512), new LoadPlan.Read(0, 584, 1, 0, 2048),
                new LoadPlan.Read(0, 2632, 1, 2048, 2048), new LoadPlan.Read(0, 4680, 1, 4096, 904),
                new LoadPlan.Read(0, 5584, 2, 0, 256)), plan.reads());
    }

    @Test
    void contiguousReadsAreCoalescedUpToTheChunkSize() throws SafetensorsException {
        LoadPlan plan = LoadPlanner.copyPlan(List.of(header("a", 256, 256, 256, 256, 256)), 1 << 20, 600);
        assertEquals(List.of(new LoadPlan.Read(0, 72, 0, 0, 600), new LoadPlan.Read(0, 672, 0, 600, 600),
                new LoadPlan.Read(0, 1272, 0, 1200, 80)), plan.reads());
    }

    @Test
    void duplicateNamesAcrossFilesAreRejected() {
        SafetensorsHeader a = header("x", 10);
        SafetensorsHeader b = new SafetensorsHeader("y", 72, 10, Map.of(), a.tensors());
        SafetensorsException e = assertThrows(SafetensorsException.class,
                () -> LoadPlanner.copyPlan(List.of(a, b), 1024, 1024));
        assertEquals("y: tensor 'x.t0': also defined in x", e.getMessage());
    }

    @Test
    void anEmptyCheckpointIsRejected() {
        assertThrows(SafetensorsException.class, () -> LoadPlanner.copyPlan(List.of(header("a", 0)), 1024, 1024));
        assertThrows(SafetensorsException.class, () -> LoadPlanner.mappedPlan(List.of(header("a", 0))));
    }

    @Test
    void inPlaceMappingSplitsFilesIntoWindowsBelowTheNioLimit() throws SafetensorsException {
        long gib = 1L << 30;
        LoadPlan plan = LoadPlanner.mappedPlan(List.of(header("a", gib, gib, gib / 2, 100), header("b", 300)));
        assertEquals(List.of(new LoadPlan.Window(0, 72, gib), new LoadPlan.Window(0, 72 + gib, gib + gib / 2 + 100),
                new LoadPlan.Window(1, 72, 300)), plan.windows());
        assertEquals(List.of(gib, gib + gib / 2 + 100, 300L), plan.bufferSizes());
        assertEquals(List.of(0L, 0L, gib, gib + gib / 2, 0L),
                plan.tensors().stream().map(TensorLocation::offset).toList());
        assertEquals(List.of(0, 1, 1, 1, 2), plan.tensors().stream().map(TensorLocation::buffer).toList());
    }

    @Test
    void inPlaceMappingRefusesATensorLargerThanOneMapping() {
        SafetensorsException e = assertThrows(SafetensorsException.class,
                () -> LoadPlanner.mappedPlan(List.of(header("a", 10, 3L << 30))));
        assertEquals("a.t1", e.tensor());
        assertTrue(e.getMessage().contains("at most 2147483647 bytes per tensor"), e.getMessage());
    }
}
