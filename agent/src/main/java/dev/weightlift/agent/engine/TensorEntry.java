package dev.weightlift.agent.engine;

import java.util.Arrays;

/**
 * One tensor of a bucket as the engine worker sees it: a view of {@code nbytes} at {@code offset} of the
 * shared buffer. {@code dtype} is the safetensors name (F32, BF16, F8_E4M3, ...).
 */
public record TensorEntry(String name, String dtype, long[] shape, long offset, long nbytes) {

    public TensorEntry {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry t && name.equals(t.name) && dtype.equals(t.dtype)
                && Arrays.equals(shape, t.shape) && offset == t.offset && nbytes == t.nbytes;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Long.hashCode(offset);
    }

    @Override
    public String toString() {
        return name + "[" + dtype + " " + Arrays.toString(shape) + " @" + offset + "]";
    }
}
