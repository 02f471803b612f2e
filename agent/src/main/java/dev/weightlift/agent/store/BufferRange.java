package dev.weightlift.agent.store;

/** {@code length} bytes at {@code offset} of buffer {@code buffer} of one checkpoint version. */
public record BufferRange(int buffer, long offset, long length) {
}
