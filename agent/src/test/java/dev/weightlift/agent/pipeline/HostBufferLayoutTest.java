package dev.weightlift.agent.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.agent.device.FileWindow;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.host.HostMemoryAllocator;
import dev.weightlift.agent.engine.HostRange;
import dev.weightlift.agent.engine.TensorEntry;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostBufferLayoutTest {

    @TempDir
    Path shm;

    private HostMemoryAllocator shared;
    private HostMemoryAllocator privateMemory;
    private MemoryRegion fileA;
    private MemoryRegion fileB;

    @BeforeEach
    void allocate() {
        shared = new HostMemoryAllocator(1L << 20, shm, "host-test");
        privateMemory = new HostMemoryAllocator(1L << 20);
        fileA = shared.allocatePinned(64 << 10);
        fileB = shared.allocatePinned(64 << 10);
    }

    @AfterEach
    void free() throws Exception {
        fileA.close();
        fileB.close();
        shared.close();
        privateMemory.close();
        assertEquals(0, shared.leakedRegions() + privateMemory.leakedRegions());
        try (var files = java.nio.file.Files.list(shm)) {
            assertEquals(List.of(), files.toList(), "the shared files are deleted with their regions");
        }
    }

    private static TensorEntry f32(String name, long offset, long elements) {
        return new TensorEntry(name, "F32", new long[] {elements}, offset, elements * 4);
    }

    @Test
    void tensorsBecomeOffsetsIntoSharedFilesInTheOrderOfFirstUse() {
        PipelineBucket first = new PipelineBucket(0, 0, 2048, List.of(new CopyRange(fileB, 1024, 0, 2048)),
                List.of(f32("a", 0, 256), f32("b", 1024, 256)), null);
        PipelineBucket second = new PipelineBucket(1, 0, 4096, List.of(new CopyRange(fileA, 0, 0, 1024),
                new CopyRange(fileB, 3072, 1024, 3072)), List.of(f32("c", 0, 256), f32("d", 1024, 768)), null);

        HostBufferLayout layout = HostBufferLayout.of(List.of(first, second), g -> true);

        assertTrue(layout.allInPlace());
        assertEquals(2, layout.inPlaceBuckets());
        FileWindow b = fileB.sharedFile().orElseThrow();
        assertEquals(List.of(b, fileA.sharedFile().orElseThrow()), layout.files());
        assertEquals(shm.resolve(Path.of(b.path()).getFileName()).toString(), b.path());
        assertEquals(List.of(new TensorEntry("a", "F32", new long[] {256}, 1024, 1024, 0),
                new TensorEntry("b", "F32", new long[] {256}, 2048, 1024, 0)), layout.tensors(0));
        assertEquals(List.of(new TensorEntry("c", "F32", new long[] {256}, 0, 1024, 1),
                new TensorEntry("d", "F32", new long[] {768}, 3072, 3072, 0)), layout.tensors(1));
        // a and b are neighbours in file 0 (merged); d follows b after a gap of 0 bytes in the same file.
        assertEquals(List.of(new HostRange(0, 1024, 2048), new HostRange(1, 0, 1024), new HostRange(0, 3072, 3072)),
                layout.readAhead());
    }

    @Test
    void aBucketStaysInTheSharedBufferWhenOneOfItsTensorsCannotBeReadInPlace() {
        MemoryRegion malloced = privateMemory.allocatePinned(4096);
        PipelineBucket ok = new PipelineBucket(0, 0, 1024, List.of(new CopyRange(fileA, 0, 0, 1024)),
                List.of(f32("ok", 0, 256)), null);
        PipelineBucket split = new PipelineBucket(1, 0, 2048, List.of(new CopyRange(fileA, 0, 0, 1024),
                new CopyRange(fileB, 0, 1024, 1024)), List.of(f32("split", 512, 256)), null);
        PipelineBucket inPrivateMemory = new PipelineBucket(2, 0, 1024, List.of(new CopyRange(malloced, 0, 0, 1024)),
                List.of(f32("private", 0, 256)), null);
        PipelineBucket misaligned = new PipelineBucket(3, 0, 1024, List.of(new CopyRange(fileA, 2, 0, 1024)),
                List.of(f32("misaligned", 0, 256)), null);
        PipelineBucket notEligible = new PipelineBucket(4, 0, 1024, List.of(new CopyRange(fileB, 0, 0, 1024)),
                List.of(f32("other", 0, 256)), null);

        HostBufferLayout layout = HostBufferLayout.of(List.of(ok, split, inPrivateMemory, misaligned, notEligible),
                g -> g != 4);

        assertTrue(layout.inPlace(0));
        for (int g = 1; g <= 4; g++) {
            assertFalse(layout.inPlace(g), "bucket " + g);
        }
        assertFalse(layout.allInPlace());
        assertEquals(List.of(fileA.sharedFile().orElseThrow()), layout.files(), "only files a bucket reads in place");
        assertEquals(List.of(new HostRange(0, 0, 1024)), layout.readAhead());
        malloced.close();
    }

    @Test
    void withoutInPlaceEveryBucketGoesThroughTheSharedBuffer() {
        HostBufferLayout layout = HostBufferLayout.none(3);
        assertFalse(layout.inPlace(1));
        assertEquals(0, layout.inPlaceBuckets());
        assertEquals(List.of(), layout.files());
    }
}
