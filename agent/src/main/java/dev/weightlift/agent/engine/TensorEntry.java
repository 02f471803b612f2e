package dev.weightlift.agent.engine;

import java.util.Arrays;

/**
 * One tensor of a bucket as the engine worker sees it: a view of {@code nbytes} at {@code offset} of the
 * shared buffer, or, when {@code hostBuffer} is 0 or more, of that host-store file of the update (read in
 * place, see {@link WorkerChannel#shareBuffers}). {@code dtype} is the safetensors name (F32, BF16, F8_E4M3, ...).
 */
public record TensorEntry(String name, String dtype, long[] shape, long offset, long nbytes, int hostBuffer) {

    /** {@link #hostBuffer()} of a tensor in the shared buffer. */
    public static final int SHARED_BUFFER = -1;

    public TensorEntry {
        shape = shape.clone();
        if (hostBuffer < SHARED_BUFFER) {
            throw new IllegalArgumentException("tensor " + name + ": host buffer " + hostBuffer);
        }
    }

    /** A tensor in the shared buffer. */
    public TensorEntry(String name, String dtype, long[] shape, long offset, long nbytes) {
        this(name, dtype, shape, offset, nbytes, SHARED_BUFFER);
    }

    public boolean inSharedBuffer() {
        return hostBuffer == SHARED_BUFFER;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry t && name.equals(t.name) && dtype.equals(t.dtype)
                && Arrays.equals(shape, t.shape) && offset == t.offset && nbytes == t.nbytes && hostBuffer == t.hostBuffer;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Long.hashCode(offset);
    }

    @Override
    public String toString() {
        return name + "[" + dtype + " " + Arrays.toString(shape) + " @" + (inSharedBuffer() ? "" : "host" + hostBuffer + ":")
                + offset + "]";
    }
}
