package dev.weightlift.protocol;

import java.util.Objects;

/**
 * Thrown by an agent's request handler that refuses the request for a cause the operator can name in status
 * ({@code reason}, e.g. {@code EngineProtocolUnsupported}); the agent answers it as a {@link Failure} with that reason.
 */
public final class RequestRefused extends Exception {

    private final String reason;

    public RequestRefused(String reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public String reason() {
        return reason;
    }
}
