package dev.weightlift.agent.store.safetensors;

import java.util.List;
import java.util.Map;

/**
 * The validated header of one safetensors file.
 *
 * @param file        the file, as named in errors
 * @param dataStart   file offset of the data region ({@code 8 + header length})
 * @param dataLength  bytes of the data region, which the tensors cover exactly
 * @param metadata    the {@code __metadata__} map (empty when absent)
 * @param tensors     the tensors in the order of their data offsets
 */
public record SafetensorsHeader(String file, long dataStart, long dataLength, Map<String, String> metadata,
        List<TensorInfo> tensors) {

    public SafetensorsHeader {
        metadata = Map.copyOf(metadata);
        tensors = List.copyOf(tensors);
    }
}
