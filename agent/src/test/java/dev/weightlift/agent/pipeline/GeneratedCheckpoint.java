package dev.weightlift.agent.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightlift.agent.device.HostAllocator;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.engine.TensorEntry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.CRC32;

/**
 * A checkpoint made up for a model's parameters (name, dtype, shape as the engine describes them), held in
 * one pinned host region like the host store holds a file, with the sha256 of every tensor, and packed
 * into buckets the way the planner does (in order, 256-byte aligned, never split).
 */
final class GeneratedCheckpoint implements AutoCloseable {

    static final int ALIGNMENT = 256;

    record Tensor(String name, String dtype, long[] shape, long offset, long nbytes) {
    }

    private final MemoryRegion region;
    private final List<Tensor> tensors;
    private final Map<String, String> sha256 = new LinkedHashMap<>();

    private GeneratedCheckpoint(MemoryRegion region, List<Tensor> tensors) {
        this.region = region;
        this.tensors = tensors;
    }

    /** {@code parameters}: the engine's describe_parameters answer for one worker. */
    static GeneratedCheckpoint generate(JsonNode parameters, HostAllocator allocator, long seed) {
        List<Tensor> tensors = new ArrayList<>();
        long offset = 0;
        for (JsonNode p : parameters) {
            long[] shape = new long[p.path("shape").size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = p.path("shape").get(i).asLong();
                numel *= shape[i];
            }
            String dtype = p.path("dtype").asText();
            long nbytes = numel * elementSize(dtype);
            tensors.add(new Tensor(p.path("name").asText(), dtype, shape, offset, nbytes));
            offset = align(offset + nbytes);
        }
        GeneratedCheckpoint checkpoint = new GeneratedCheckpoint(allocator.allocatePinned(Math.max(offset, ALIGNMENT)), tensors);
        checkpoint.fill(new SplittableRandom(seed));
        return checkpoint;
    }

    static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    static int elementSize(String dtype) {
        return switch (dtype) {
            case "F32", "I32" -> 4;
            case "F16", "BF16", "I16" -> 2;
            case "F64", "I64" -> 8;
            default -> 1;
        };
    }

    private void fill(SplittableRandom random) {
        for (Tensor t : tensors) {
            ByteBuffer view = region.view(t.offset(), (int) t.nbytes()).order(ByteOrder.LITTLE_ENDIAN);
            while (view.hasRemaining()) {
                float value = (float) (random.nextDouble() * 2 - 1);
                switch (t.dtype()) {
                    case "F32" -> view.putFloat(value);
                    case "BF16" -> view.putShort((short) (Float.floatToIntBits(value) >>> 16));
                    default -> view.put((byte) random.nextInt(256));
                }
            }
            sha256.put(t.name(), sha256(region.view(t.offset(), (int) t.nbytes())));
        }
    }

    long totalBytes() {
        return tensors.stream().mapToLong(Tensor::nbytes).sum();
    }

    MemoryRegion region() {
        return region;
    }

    Map<String, String> sha256() {
        return sha256;
    }

    /** Buckets of at most {@code slotBytes} (a tensor larger than that gets a bucket of its own). */
    List<PipelineBucket> buckets(long slotBytes, boolean withChecksums) {
        List<PipelineBucket> buckets = new ArrayList<>();
        List<Tensor> current = new ArrayList<>();
        long size = 0;
        for (Tensor t : tensors) {
            long start = align(size);
            if (!current.isEmpty() && start + t.nbytes() > slotBytes) {
                buckets.add(bucket(buckets.size(), current, withChecksums));
                current = new ArrayList<>();
                start = 0;
            }
            current.add(t);
            size = start + t.nbytes();
        }
        if (!current.isEmpty()) {
            buckets.add(bucket(buckets.size(), current, withChecksums));
        }
        return buckets;
    }

    private PipelineBucket bucket(int index, List<Tensor> members, boolean withChecksum) {
        List<CopyRange> ranges = new ArrayList<>();
        List<TensorEntry> entries = new ArrayList<>();
        CRC32 crc = new CRC32();
        long at = 0;
        for (Tensor t : members) {
            at = align(at);
            ranges.add(new CopyRange(region, t.offset(), at, t.nbytes()));
            entries.add(new TensorEntry(t.name(), t.dtype(), t.shape(), at, t.nbytes()));
            crc.update(region.view(t.offset(), (int) t.nbytes()));
            at += t.nbytes();
        }
        return new PipelineBucket(index, 0, at, ranges, entries, withChecksum ? crc.getValue() : null);
    }

    private static String sha256(ByteBuffer bytes) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(bytes);
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        region.close();
    }
}
