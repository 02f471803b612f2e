package dev.weightlift.agent.engine;

/** An engine worker failed, answered an error, or missed a deadline; the message names worker and step. */
public class EngineException extends Exception {

    public EngineException(String message) {
        super(message);
    }

    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }
}
