package dev.weightlift.agent;

import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.DeviceBackend;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.HostAllocator;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.SharedRegion;
import java.util.List;
import java.util.stream.IntStream;

/** Just enough of a backend for the control plane: named GPUs with memory figures, no memory of its own. */
final class FakeBackend implements DeviceBackend {

    private final List<Gpu> gpus;

    FakeBackend(String node, int count, long freeMemory) {
        this.gpus = IntStream.range(0, count)
                .mapToObj(i -> (Gpu) new FakeGpu(i, "GPU-" + node + "-" + i, freeMemory)).toList();
    }

    @Override
    public String name() {
        return "host";
    }

    @Override
    public List<Gpu> gpus() {
        return gpus;
    }

    @Override
    public HostAllocator hostAllocator() {
        throw new UnsupportedOperationException("the fake backend allocates nothing");
    }

    @Override
    public void close() {
    }

    private record FakeGpu(int index, String uuid, long freeMemory) implements Gpu {
        @Override
        public long totalMemory() {
            return 80L << 30;
        }

        @Override
        public MemoryRegion allocate(long bytes) {
            throw new UnsupportedOperationException("the fake backend allocates nothing");
        }

        @Override
        public SharedRegion allocateShared(long bytes) {
            throw new UnsupportedOperationException("the fake backend allocates nothing");
        }

        @Override
        public CopyStream newStream(String name) {
            throw new UnsupportedOperationException("the fake backend has no streams");
        }
    }
}
