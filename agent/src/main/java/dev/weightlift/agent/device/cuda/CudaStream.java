package dev.weightlift.agent.device.cuda;

import static org.bytedeco.cuda.global.cudart.cudaEventCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaEventDisableTiming;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDefault;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamNonBlocking;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaStreamWaitEvent;

import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.StreamEvent;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;

/** A non-blocking CUDA stream of one GPU; copies go through unified addressing ({@code cudaMemcpyDefault}). */
final class CudaStream implements CopyStream {

    private final CUstream_st stream = new CUstream_st();
    private final int device;
    private final String name;
    private final Consumer<CudaStream> onClose;
    private final AtomicBoolean closed = new AtomicBoolean();

    CudaStream(int device, String name, Consumer<CudaStream> onClose) {
        this.device = device;
        this.name = name;
        this.onClose = onClose;
        CudaRuntime.use(device);
        CudaRuntime.check(cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking), "cudaStreamCreate " + name + " on gpu" + device);
    }

    CUstream_st handle() {
        return stream;
    }

    int device() {
        return device;
    }

    @Override
    public void copy(MemoryRegion src, long srcOffset, MemoryRegion dst, long dstOffset, long length) {
        checkRange(src, srcOffset, length, "source");
        checkRange(dst, dstOffset, length, "destination");
        CudaRuntime.use(device);
        CudaRuntime.check(cudaMemcpyAsync(new RawPointer(dst.address() + dstOffset, length),
                new RawPointer(src.address() + srcOffset, length), length, cudaMemcpyDefault, stream),
                "cudaMemcpyAsync " + length + " B " + src.kind() + "->" + dst.kind() + " on stream " + name + " gpu" + device);
    }

    @Override
    public StreamEvent record() {
        CudaRuntime.use(device);
        CUevent_st event = new CUevent_st();
        CudaRuntime.check(cudaEventCreateWithFlags(event, cudaEventDisableTiming), "cudaEventCreate on gpu" + device);
        CudaEvent recorded = new CudaEvent(event, device);
        try {
            CudaRuntime.check(cudaEventRecord(event, stream), "cudaEventRecord on stream " + name + " gpu" + device);
        } catch (RuntimeException e) {
            recorded.close();
            throw e;
        }
        return recorded;
    }

    @Override
    public void waitFor(StreamEvent event) {
        if (!(event instanceof CudaEvent cuda)) {
            throw new IllegalArgumentException("a CUDA stream can only wait for a CUDA event, not " + event);
        }
        CudaRuntime.use(device);
        CudaRuntime.check(cudaStreamWaitEvent(stream, cuda.handle(), 0), "cudaStreamWaitEvent on stream " + name + " gpu" + device);
    }

    @Override
    public void synchronize() {
        CudaRuntime.use(device);
        CudaRuntime.check(cudaStreamSynchronize(stream), "work on stream " + name + " gpu" + device);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            CudaRuntime.use(device);
            CudaRuntime.check(cudaStreamDestroy(stream), "cudaStreamDestroy " + name + " on gpu" + device);
            onClose.accept(this);
        }
    }

    private static void checkRange(MemoryRegion region, long offset, long length, String what) {
        if (!(region instanceof CudaRegion cuda)) {
            throw new IllegalArgumentException("the " + what + " of a CUDA copy must be CUDA memory, not " + region);
        }
        cuda.checkRange(offset, length);
    }

    @Override
    public String toString() {
        return "stream " + name + " on gpu" + device;
    }
}
