package dev.weightlift.agent.device.cuda;

import static org.bytedeco.cuda.global.cudart.cudaErrorNotReady;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventQuery;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import dev.weightlift.agent.device.StreamEvent;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.bytedeco.cuda.cudart.CUevent_st;

/** A recorded CUDA event (timing disabled). Waiting polls, because cudaEventSynchronize has no deadline. */
final class CudaEvent implements StreamEvent {

    private static final long POLL_NANOS = 20_000;

    private final CUevent_st event;
    private final int device;
    private final AtomicBoolean closed = new AtomicBoolean();

    CudaEvent(CUevent_st event, int device) {
        this.event = event;
        this.device = device;
    }

    CUevent_st handle() {
        return event;
    }

    int device() {
        return device;
    }

    @Override
    public boolean isDone() {
        int status = cudaEventQuery(event);
        if (status == cudaSuccess) {
            return true;
        }
        if (status == cudaErrorNotReady) {
            return false;
        }
        CudaRuntime.check(status, "work before an event on gpu" + device);
        return false;
    }

    @Override
    public boolean await(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!isDone()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
        return true;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            CudaRuntime.check(cudaEventDestroy(event), "cudaEventDestroy on gpu" + device);
        }
    }
}
