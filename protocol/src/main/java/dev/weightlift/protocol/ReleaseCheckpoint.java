package dev.weightlift.protocol;

import java.util.Objects;

/** Drop a checkpoint version from the host store; answered with {@link Ack}. */
public record ReleaseCheckpoint(String name, String version) implements Request<Ack> {
    public ReleaseCheckpoint {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
    }

    @Override
    public Class<Ack> responseType() {
        return Ack.class;
    }
}
