package dev.weightlift.protocol;

import java.util.Objects;

/** Stop update {@code updateId} wherever it is and free what it holds; answered with {@link Ack}. */
public record AbortUpdate(String updateId, String reason) implements Request<Ack> {
    public AbortUpdate {
        Objects.requireNonNull(updateId, "updateId");
        Objects.requireNonNull(reason, "reason");
    }

    @Override
    public Class<Ack> responseType() {
        return Ack.class;
    }
}
