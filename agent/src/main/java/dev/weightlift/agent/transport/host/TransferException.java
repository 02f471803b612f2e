package dev.weightlift.agent.transport.host;

/** A host-backend transfer failed: a peer went away, refused, broke the protocol or missed a deadline. */
public final class TransferException extends RuntimeException {

    public TransferException(String message) {
        super(message);
    }

    public TransferException(String message, Throwable cause) {
        super(message, cause);
    }
}
