package dev.weightlift.protocol;

/** A frame that is not a message of this protocol version; the text names what is wrong. */
public final class ProtocolException extends Exception {
    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
