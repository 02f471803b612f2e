package dev.weightlift.agent.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.agent.device.host.HostMemoryAllocator;
import dev.weightlift.agent.engine.TensorEntry;
import dev.weightlift.agent.store.CheckpointVersion;
import dev.weightlift.agent.store.HostStore;
import dev.weightlift.agent.store.safetensors.TestSafetensors;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Buckets laid out over a real checkpoint loaded by the host store. */
class BucketLayoutTest {

    @TempDir
    Path dir;

    @Test
    void tensorsAreAlignedInPlanOrderWithOneRangePerTensorAndTheChecksumOfTheirBytes() throws Exception {
        byte[] a = bytes(10, 1);
        byte[] b = bytes(300, 2);
        byte[] c = bytes(4, 3);
        new TestSafetensors().add("a", "U8", new long[] {10}, a).add("b", "F16", new long[] {150}, b)
                .add("c", "F32", new long[] {1}, c).write(dir.resolve("model.safetensors"));
        try (HostMemoryAllocator allocator = new HostMemoryAllocator(64L << 20);
                HostStore store = new HostStore(allocator)) {
            CheckpointVersion version = store.loadDirectory("m", "v1", dir);
            PipelineBucket bucket = BucketLayout.owned(version, 3, 0, List.of("c", "a", "b"), true);

            assertEquals("c[F32 [1] @0], a[U8 [10] @256], b[F16 [150] @512]",
                    bucket.tensors().stream().map(TensorEntry::toString).collect(Collectors.joining(", ")));
            assertEquals(812, bucket.bytes());
            assertEquals(List.of(0L, 256L, 512L), bucket.ranges().stream().map(CopyRange::bucketOffset).toList());
            assertEquals(List.of(4L, 10L, 300L), bucket.ranges().stream().map(CopyRange::length).toList());
            CRC32 crc = new CRC32();
            crc.update(c);
            crc.update(a);
            crc.update(b);
            assertEquals(crc.getValue(), bucket.crc32());
            assertEquals(List.of("c[F32 [1] @1024]"), bucket.tensorsAt(1024).stream().limit(1).map(TensorEntry::toString).toList());

            PipelineBucket received = BucketLayout.received(bucket);
            assertTrue(received.ranges().isEmpty());
            assertEquals(bucket.tensors(), received.tensors());
            assertNull(BucketLayout.owned(version, 0, 0, List.of("a"), false).crc32());

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BucketLayout.owned(version, 4, 0, List.of("a", "missing"), false));
            assertTrue(e.getMessage().contains("bucket 4: tensor 'missing' is not in checkpoint m version v1"), e.getMessage());
            store.release("m", "v1");
        }
    }

    private static byte[] bytes(int n, int seed) {
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            out[i] = (byte) (i * 31 + seed);
        }
        return out;
    }
}
