package dev.weightlift.protocol;

import java.util.Objects;

/**
 * One message on the wire with its id. A request's id is chosen by the hub; the response and the progress
 * events of that request carry the same id. Messages outside a request carry an id of their own.
 */
public record Envelope(String id, Message message) {
    public Envelope {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(message, "message");
    }

    public String type() {
        return MessageCodec.typeName(message.getClass());
    }
}
