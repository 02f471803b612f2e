package dev.weightlift.agent.device.cuda;

import static org.bytedeco.cuda.global.cudart.cudaGetDeviceProperties;
import static org.bytedeco.cuda.global.cudart.cudaMemGetInfo;

import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.SharedRegion;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.SizeTPointer;

/** One GPU of the node; owns its device allocator and the streams made on it. */
public final class CudaGpu implements Gpu, AutoCloseable {

    private final int index;
    private final String uuid;
    private final String name;
    private final long totalMemory;
    private final CudaDeviceAllocator allocator;
    private final Set<CudaStream> streams = ConcurrentHashMap.newKeySet();

    private CudaGpu(int index, String uuid, String name, long totalMemory) {
        this.index = index;
        this.uuid = uuid;
        this.name = name;
        this.totalMemory = totalMemory;
        this.allocator = new CudaDeviceAllocator(index, uuid);
    }

    static CudaGpu open(int index) {
        try (cudaDeviceProp prop = new cudaDeviceProp()) {
            CudaRuntime.check(cudaGetDeviceProperties(prop, index), "cudaGetDeviceProperties(" + index + ")");
            byte[] uuid = new byte[16];
            new BytePointer(prop.uuid()).capacity(16).get(uuid);
            return new CudaGpu(index, formatUuid(uuid), prop.name().getString(), prop.totalGlobalMem());
        }
    }

    /** NVML's form of a GPU UUID: {@code GPU-} and the 16 bytes as 8-4-4-4-12 hex digits. */
    static String formatUuid(byte[] bytes) {
        StringBuilder hex = new StringBuilder("GPU-");
        for (int i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) {
                hex.append('-');
            }
            hex.append(Character.forDigit((bytes[i] >> 4) & 0xf, 16)).append(Character.forDigit(bytes[i] & 0xf, 16));
        }
        return hex.toString();
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public String uuid() {
        return uuid;
    }

    /** The product name, e.g. {@code NVIDIA H200}. */
    public String name() {
        return name;
    }

    @Override
    public long totalMemory() {
        return totalMemory;
    }

    @Override
    public long freeMemory() {
        CudaRuntime.use(index);
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            CudaRuntime.check(cudaMemGetInfo(free, total), "cudaMemGetInfo on gpu" + index);
            return free.get();
        }
    }

    /** Bytes of device memory this agent holds on this GPU now. */
    public long bytesAllocated() {
        return allocator.bytesInUse();
    }

    @Override
    public MemoryRegion allocate(long bytes) {
        return allocator.allocate(bytes);
    }

    @Override
    public SharedRegion allocateShared(long bytes) {
        return allocator.allocateShared(bytes);
    }

    @Override
    public CopyStream newStream(String name) {
        CudaStream stream = new CudaStream(index, name, streams::remove);
        streams.add(stream);
        return stream;
    }

    /** Destroys the streams still open and frees every allocation still open; returns the number of leaked regions. */
    int closeAll() {
        for (CudaStream stream : new ArrayList<>(streams)) {
            stream.close();
        }
        return allocator.closeAll();
    }

    @Override
    public void close() {
        closeAll();
    }

    @Override
    public String toString() {
        return "gpu" + index + " " + name + " " + uuid;
    }

    static List<CudaGpu> openAll(int count) {
        List<CudaGpu> gpus = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            gpus.add(open(i));
        }
        return List.copyOf(gpus);
    }
}
