package dev.weightlift.protocol;

import java.util.List;
import java.util.Objects;

/**
 * The versions this agent must keep pinned in host memory (an update may still need them, e.g. to fill pods
 * that join later); every version not listed may be dropped by retention. Replaces the previous list.
 */
public record KeepCheckpoints(List<Kept> keep) implements Request<Ack> {

    public KeepCheckpoints {
        keep = List.copyOf(keep);
    }

    /** One version to keep. */
    public record Kept(String name, String version) {
        public Kept {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(version, "version");
        }
    }

    @Override
    public Class<Ack> responseType() {
        return Ack.class;
    }
}
