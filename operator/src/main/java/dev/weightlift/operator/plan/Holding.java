package dev.weightlift.operator.plan;

import java.util.List;
import java.util.Objects;

/** The tensors one owner GPU holds in its node's host store (its shard of the checkpoint). */
public record Holding(Participant owner, List<TensorMeta> tensors) {
    public Holding {
        Objects.requireNonNull(owner, "holding owner");
        tensors = List.copyOf(Objects.requireNonNull(tensors, () -> "tensors of " + owner.id()));
    }
}
