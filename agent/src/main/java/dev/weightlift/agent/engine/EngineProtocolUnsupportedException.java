package dev.weightlift.agent.engine;

/**
 * This agent cannot serve the engine protocol the update asks for (e.g. checkpoint-engine on the host backend);
 * the message says why. The Broadcast flow reports it as the update's reason {@code EngineProtocolUnsupported}.
 */
public final class EngineProtocolUnsupportedException extends EngineException {

    public EngineProtocolUnsupportedException(String message) {
        super(message);
    }
}
