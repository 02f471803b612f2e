package dev.weightlift.agent.device.cuda;

/** A CUDA or NCCL call failed; the message names the call, the GPU and the runtime's error text. */
public class CudaException extends RuntimeException {

    public CudaException(String message) {
        super(message);
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
    }
}
