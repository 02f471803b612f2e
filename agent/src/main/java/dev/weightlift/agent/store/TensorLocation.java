package dev.weightlift.agent.store;

import dev.weightlift.agent.store.safetensors.Dtype;
import java.util.Arrays;
import java.util.Objects;

/** Where one tensor of a loaded checkpoint lies: {@code nbytes} bytes at {@code offset} of buffer {@code buffer}. */
public record TensorLocation(String name, Dtype dtype, long[] shape, long nbytes, int buffer, long offset) {

    public TensorLocation {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public BufferRange range() {
        return new BufferRange(buffer, offset, nbytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorLocation t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && nbytes == t.nbytes && buffer == t.buffer && offset == t.offset;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), nbytes, buffer, offset);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @" + buffer + ":" + offset + "+" + nbytes;
    }
}
