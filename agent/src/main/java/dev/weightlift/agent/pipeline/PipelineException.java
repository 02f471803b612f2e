package dev.weightlift.agent.pipeline;

/** One GPU's update failed; the message names the GPU, the step and (for an engine error) the engine's own text. */
public class PipelineException extends Exception {

    public PipelineException(String message, Throwable cause) {
        super(message, cause);
    }
}
