package dev.weightlift.agent.transport.ucx;

/** UCX's native libraries (Debian's {@code libucx0}) could not be loaded into this process. */
public final class UcxUnavailableException extends RuntimeException {

    public UcxUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
