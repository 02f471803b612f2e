package dev.weightlift.agent.store.meta;

import dev.weightlift.agent.store.TensorLocation;
import java.util.List;

/**
 * What an agent reports about one checkpoint version it holds, as JSON: the buffer sizes and the tensor
 * table in {@link TensorTableCodec}'s compact form: about 53 KB of JSON for a 100k-tensor checkpoint (see
 * agent/docs/host-store.md).
 */
public record CheckpointMetadata(String checkpoint, String version, List<Long> bufferSizes, int tensorCount,
        String format, String tensors) {

    public CheckpointMetadata {
        bufferSizes = List.copyOf(bufferSizes);
    }

    public static CheckpointMetadata of(String checkpoint, String version, List<Long> bufferSizes,
            List<TensorLocation> tensors) {
        return new CheckpointMetadata(checkpoint, version, bufferSizes, tensors.size(), TensorTableCodec.FORMAT,
                TensorTableCodec.encode(tensors));
    }

    /** The tensor table. @throws IllegalArgumentException when it is malformed or in another format */
    public List<TensorLocation> decodeTensors() {
        if (!TensorTableCodec.FORMAT.equals(format)) {
            throw new IllegalArgumentException("tensor table format '" + format + "', expected " + TensorTableCodec.FORMAT);
        }
        List<TensorLocation> decoded = TensorTableCodec.decode(tensors);
        if (decoded.size() != tensorCount) {
            throw new IllegalArgumentException("tensor table holds " + decoded.size() + " tensors, expected " + tensorCount);
        }
        return decoded;
    }
}
