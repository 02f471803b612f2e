package dev.weightlift.agent.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.store.CheckpointVersion;
import dev.weightlift.agent.store.HostStore;
import dev.weightlift.agent.store.safetensors.TestSafetensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A checkpoint made up for a model's parameters (name, dtype, shape as the engine describes them), written
 * as a safetensors file and loaded by the host store like any checkpoint, with the sha256 of every tensor,
 * and packed into buckets in order (never split) the way the planner does.
 */
final class GeneratedCheckpoint implements AutoCloseable {

    private static final String NAME = "generated";

    private final HostStore store;
    private final CheckpointVersion version;
    private final Map<String, String> sha256;

    private GeneratedCheckpoint(HostStore store, CheckpointVersion version, Map<String, String> sha256) {
        this.store = store;
        this.version = version;
        this.sha256 = sha256;
    }

    /** {@code parameters}: the engine's describe_parameters answer for one worker. */
    static GeneratedCheckpoint generate(JsonNode parameters, HostStore store, Path dir, String version, long seed)
            throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        TestSafetensors file = new TestSafetensors();
        Map<String, String> sha256 = new LinkedHashMap<>();
        for (JsonNode p : parameters) {
            long[] shape = new long[p.path("shape").size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = p.path("shape").get(i).asLong();
                numel *= shape[i];
            }
            String dtype = p.path("dtype").asText();
            byte[] data = values(dtype, numel, random);
            file.add(p.path("name").asText(), dtype, shape, data);
            sha256.put(p.path("name").asText(), sha256(data));
        }
        Path versionDir = Files.createDirectories(dir.resolve(version));
        file.write(versionDir.resolve("model.safetensors"));
        CheckpointVersion loaded = store.loadDirectory(NAME, version, versionDir);
        Files.delete(versionDir.resolve("model.safetensors"));
        return new GeneratedCheckpoint(store, loaded, sha256);
    }

    /** Real numbers in [-1, 1) for float types (no NaN payloads to argue about), random bytes otherwise. */
    private static byte[] values(String dtype, long numel, SplittableRandom random) {
        int size = switch (dtype) {
            case "F32", "I32" -> 4;
            case "F16", "BF16", "I16" -> 2;
            case "F64", "I64" -> 8;
            default -> 1;
        };
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(numel * size)).order(ByteOrder.LITTLE_ENDIAN);
        while (out.hasRemaining()) {
            float value = (float) (random.nextDouble() * 2 - 1);
            switch (dtype) {
                case "F32" -> out.putFloat(value);
                case "BF16" -> out.putShort((short) (Float.floatToIntBits(value) >>> 16));
                default -> out.put((byte) random.nextInt(256));
            }
        }
        return out.array();
    }

    CheckpointVersion version() {
        return version;
    }

    /** The store's first buffer (the whole checkpoint: one file). */
    MemoryRegion region() {
        return version.buffers().get(0);
    }

    Map<String, String> sha256() {
        return sha256;
    }

    /** Buckets of at most {@code slotBytes} (a tensor larger than that gets a bucket of its own). */
    List<PipelineBucket> buckets(long slotBytes, boolean withChecksums) {
        List<List<String>> plan = new ArrayList<>();
        List<String> current = new ArrayList<>();
        long size = 0;
        for (var t : version.tensors()) {
            long start = BucketLayout.align(size);
            if (!current.isEmpty() && start + t.nbytes() > slotBytes) {
                plan.add(current);
                current = new ArrayList<>();
                start = 0;
            }
            current.add(t.name());
            size = start + t.nbytes();
        }
        if (!current.isEmpty()) {
            plan.add(current);
        }
        List<PipelineBucket> buckets = new ArrayList<>();
        for (int i = 0; i < plan.size(); i++) {
            buckets.add(BucketLayout.owned(version, i, 0, plan.get(i), withChecksums));
        }
        return buckets;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Drops the version from the store (its memory goes back to the allocator). */
    @Override
    public void close() {
        store.release(NAME, version.version());
    }
}
