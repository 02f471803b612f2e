package dev.weightlift.protocol.broadcast;

import java.util.List;
import java.util.Objects;

/**
 * One tensor an agent holds after a load: where its bytes lie in the host store ({@code buffer} is the
 * index of the store buffer, as text, so the planner's copy ranges name it back).
 */
public record LoadedTensor(String name, String dtype, List<Long> shape, long bytes, String buffer, long offset) {
    public LoadedTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(buffer, "buffer");
        shape = List.copyOf(shape);
    }
}
