package dev.weightlift.agent.engine;

/** {@code length} bytes at {@code offset} of host buffer {@code buffer} of an update (see {@link WorkerChannel#shareBuffers}). */
public record HostRange(int buffer, long offset, long length) {

    public HostRange {
        if (buffer < 0 || offset < 0 || length <= 0) {
            throw new IllegalArgumentException("host range [" + offset + ", +" + length + ") of buffer " + buffer);
        }
    }
}
