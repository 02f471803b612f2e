package dev.weightlift.agent.device;

/** A copy on a {@link CopyStream} failed; rethrown by {@link CopyStream#synchronize()}. The stream stays failed. */
public final class CopyFailedException extends RuntimeException {

    public CopyFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
