package dev.weightlift.agent.engine.nativeprotocol;

import java.io.IOException;

/** A frame or message that breaks the native protocol (size, encoding, type, field). */
public class ProtocolException extends IOException {

    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
