package dev.weightlift.agent.store;

import java.util.List;

/**
 * How a checkpoint's files become buffers: the buffer sizes, where each tensor goes, and the work to fill
 * them: positional reads (copy loads) or file windows mapped in place, plus padding to zero.
 */
record LoadPlan(List<Long> bufferSizes, List<TensorLocation> tensors, List<Read> reads, List<BufferRange> padding,
        List<Window> windows) {

    /** Copy {@code length} bytes at {@code position} of file {@code file} to {@code bufferOffset} of {@code buffer}. */
    record Read(int file, long position, int buffer, long bufferOffset, long length) {
    }

    /** Map {@code length} bytes at {@code position} of file {@code file} in place as the next buffer. */
    record Window(int file, long position, long length) {
    }

    long totalBytes() {
        return bufferSizes.stream().mapToLong(Long::longValue).sum();
    }
}
