package dev.weightlift.operator.plan;

import java.util.List;
import java.util.Objects;

/**
 * What the operator knows before anything is loaded: the checkpoint's tensors (from the safetensors
 * headers, {@code buffer} = file path) and the GPUs that will own shards.
 *
 * @param tensors         every tensor of the checkpoint
 * @param owners          the GPUs that load shards (each node's agent loads the shards of its GPUs)
 * @param groupingPattern the CR's {@code spec.grouping.pattern}, or null
 * @param granularity     whether whole files or single tensors (groups) are the unit of assignment
 */
public record LoadRequest(List<TensorMeta> tensors, List<Participant> owners, String groupingPattern,
                          Granularity granularity) {

    public LoadRequest {
        tensors = List.copyOf(Objects.requireNonNull(tensors, "tensors"));
        owners = List.copyOf(Objects.requireNonNull(owners, "owners"));
        Objects.requireNonNull(granularity, "granularity");
    }

    public enum Granularity {
        /** Whole files (all tensors of files linked by a group go together): simplest reads. */
        FILE,
        /** Single tensors or groups: byte balance even when files outnumber GPUs only a little. */
        TENSOR
    }
}
