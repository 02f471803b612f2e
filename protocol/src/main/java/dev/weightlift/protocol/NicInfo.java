package dev.weightlift.protocol;

import java.util.Objects;

/** A network interface the agent can serve P2P reads from; {@code bitsPerSecond} is 0 when unknown. */
public record NicInfo(String name, String address, long bitsPerSecond) {
    public NicInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(address, "address");
    }
}
