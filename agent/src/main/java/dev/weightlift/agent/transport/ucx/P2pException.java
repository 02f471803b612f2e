package dev.weightlift.agent.transport.ucx;

/** A P2P read or registration failed: the holder went away, refused, or a deadline passed. */
public final class P2pException extends RuntimeException {

    public P2pException(String message) {
        super(message);
    }

    public P2pException(String message, Throwable cause) {
        super(message, cause);
    }
}
