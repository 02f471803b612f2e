package dev.weightlift.protocol.broadcast;

import java.util.List;
import java.util.Objects;

/**
 * What a receiving agent reads by P2P: the holders and their buffer descriptors, and the buffers to build,
 * each with its tensors (their {@code buffer} is the built buffer's index, as text) and the reads that fill it.
 */
public record FetchWork(List<Source> sources, List<Buffer> buffers) {

    public FetchWork {
        sources = List.copyOf(sources);
        buffers = List.copyOf(buffers);
    }

    /** A holder: its P2P address and the descriptors of its exposed buffers. */
    public record Source(String node, String host, int port, List<String> descriptors) {
        public Source {
            Objects.requireNonNull(node, "node");
            Objects.requireNonNull(host, "host");
            descriptors = List.copyOf(descriptors);
        }
    }

    /** One buffer to allocate and fill. */
    public record Buffer(long size, List<LoadedTensor> tensors, List<Read> reads) {
        public Buffer {
            tensors = List.copyOf(tensors);
            reads = List.copyOf(reads);
        }
    }

    /** {@code length} bytes at {@code sourceOffset} of descriptor {@code descriptor} of source {@code source}, to {@code bufferOffset}. */
    public record Read(int source, int descriptor, long sourceOffset, long bufferOffset, long length) {
    }
}
