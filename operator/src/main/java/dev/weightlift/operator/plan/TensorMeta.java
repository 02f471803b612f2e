package dev.weightlift.operator.plan;

import java.util.List;
import java.util.Objects;

/**
 * One tensor of a checkpoint as an agent reports it.
 *
 * @param name   tensor name, unique within the checkpoint
 * @param dtype  safetensors dtype string (e.g. {@code BF16}, {@code F8_E4M3})
 * @param shape  dimensions
 * @param bytes  raw size in bytes (no padding)
 * @param buffer where the bytes live on the owner: a checkpoint file path before loading, the host
 *               store's buffer name after it
 * @param offset byte offset of the tensor inside {@code buffer}
 */
public record TensorMeta(String name, String dtype, List<Long> shape, long bytes, String buffer, long offset) {

    /** Bucket slots are aligned like checkpoint-engine's (256 bytes), so every dtype view is aligned. */
    public static final long ALIGNMENT = 256;

    public TensorMeta {
        Objects.requireNonNull(name, "tensor name");
        Objects.requireNonNull(dtype, () -> "dtype of tensor " + name);
        Objects.requireNonNull(buffer, () -> "buffer of tensor " + name);
        shape = List.copyOf(Objects.requireNonNull(shape, () -> "shape of tensor " + name));
        if (bytes < 0 || offset < 0) {
            throw new PlanException("tensor " + name + ": negative bytes (" + bytes + ") or offset (" + offset + ")");
        }
    }

    /** Size of the tensor's slot in a bucket. */
    public long alignedBytes() {
        return align(bytes);
    }

    public static long align(long bytes) {
        return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }
}
