package dev.weightlift.agent.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
import dev.weightlift.agent.engine.TensorEntry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The owner's checksum of a bucket equals the CRC-32 of the tensors' bytes however the copy ranges cut them. */
class BucketChecksumTest {

    @TempDir
    Path shm;

    @Test
    void checksumIsOverTheTensorsBytesInListOrderThroughTheRanges() {
        try (HostBackend backend = new HostBackend(new HostBackendConfig("crc", 1, 1L << 20, 16L << 20, shm, Duration.ofSeconds(5)));
                MemoryRegion a = backend.hostAllocator().allocatePinned(4096);
                MemoryRegion b = backend.hostAllocator().allocatePinned(4096)) {
            byte[] bytesA = new byte[4096];
            byte[] bytesB = new byte[4096];
            new Random(3).nextBytes(bytesA);
            new Random(4).nextBytes(bytesB);
            a.view(0, 4096).put(bytesA);
            b.view(0, 4096).put(bytesB);
            // tensor x: 1000 bytes at bucket 0, from a[100..600) and b[0..500); tensor y: 300 bytes at bucket 1024 from a[2000..2300)
            List<CopyRange> ranges = List.of(new CopyRange(a, 2000, 1024, 300), new CopyRange(b, 0, 500, 500),
                    new CopyRange(a, 100, 0, 500));
            List<TensorEntry> tensors = List.of(new TensorEntry("x", "U8", new long[] {1000}, 0, 1000),
                    new TensorEntry("y", "U8", new long[] {300}, 1024, 300));
            CRC32 expected = new CRC32();
            expected.update(bytesA, 100, 500);
            expected.update(bytesB, 0, 500);
            expected.update(bytesA, 2000, 300);
            assertEquals(expected.getValue(), BucketChecksum.crc32(ranges, tensors));

            IllegalArgumentException gap = assertThrows(IllegalArgumentException.class,
                    () -> BucketChecksum.crc32(List.of(new CopyRange(a, 100, 0, 500)), tensors));
            assertTrue(gap.getMessage().contains("tensor x: bytes [500, 1000)"), gap.getMessage());
        }
    }
}
