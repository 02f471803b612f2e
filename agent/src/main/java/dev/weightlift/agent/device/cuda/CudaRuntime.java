package dev.weightlift.agent.device.cuda;

import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nccl;
import org.bytedeco.javacpp.Loader;

/**
 * Loads the CUDA runtime and NCCL through JavaCPP once, on first use, and turns status codes into
 * exceptions. Nothing CUDA is touched before {@link #load()}, so the agent starts on machines without it.
 */
final class CudaRuntime {

    private static volatile int deviceCount = -1;
    private static volatile CudaUnavailableException unavailable;

    private CudaRuntime() {
    }

    /** Loads cudart and NCCL and counts GPUs; throws {@link CudaUnavailableException} naming the cause. */
    static synchronized int load() {
        if (unavailable != null) {
            throw unavailable;
        }
        if (deviceCount >= 0) {
            return deviceCount;
        }
        try {
            Loader.load(cudart.class);
            Loader.load(nccl.class);
        } catch (Throwable e) {
            unavailable = new CudaUnavailableException("the cuda backend cannot load the CUDA runtime: "
                    + rootCause(e) + " (is this a GPU node with the NVIDIA driver and libcudart.so.13?)", e);
            throw unavailable;
        }
        int[] count = new int[1];
        int status = cudaGetDeviceCount(count);
        if (status != cudaSuccess || count[0] == 0) {
            String why = status != cudaSuccess ? errorText(status) : "no GPU is visible";
            unavailable = new CudaUnavailableException("the cuda backend found no usable GPU: " + why, null);
            throw unavailable;
        }
        deviceCount = count[0];
        return deviceCount;
    }

    /** True when {@link #load()} succeeds; for tests that skip without a GPU. */
    static boolean available() {
        try {
            load();
            return true;
        } catch (CudaUnavailableException e) {
            return false;
        }
    }

    static void check(int status, String call) {
        if (status != cudaSuccess) {
            throw new CudaException(call + " failed: " + errorText(status) + " (cudaError " + status + ")");
        }
    }

    /** Makes {@code device} current on the calling thread (CUDA keeps the current device per thread). */
    static void use(int device) {
        check(cudaSetDevice(device), "cudaSetDevice(" + device + ")");
    }

    static String errorText(int status) {
        return cudaGetErrorString(status).getString();
    }

    private static String rootCause(Throwable e) {
        StringBuilder text = new StringBuilder(String.valueOf(e.getMessage()));
        Throwable cause = e.getCause();
        while (cause != null && cause != e) {
            text.append("; caused by ").append(cause.getMessage());
            e = cause;
            cause = e.getCause();
        }
        return text.toString();
    }
}
