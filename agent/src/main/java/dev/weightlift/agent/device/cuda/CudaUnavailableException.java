package dev.weightlift.agent.device.cuda;

/** This machine cannot run the {@code cuda} backend: no CUDA runtime, no driver, or no GPU. */
public final class CudaUnavailableException extends CudaException {

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
