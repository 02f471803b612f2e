package dev.weightlift.agent.store;

import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.store.meta.CheckpointMetadata;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One version of a named checkpoint held in host memory: its buffers and where each tensor lies in them.
 * The buffers stay valid while the version is held by the store (pin it for the length of an update).
 */
public final class CheckpointVersion {

    private final String name;
    private final String version;
    private final boolean inPlace;
    private final List<MemoryRegion> buffers;
    private final List<TensorLocation> tensors;
    private final Map<String, TensorLocation> byName;
    private final long bytes;

    CheckpointVersion(String name, String version, boolean inPlace, List<MemoryRegion> buffers,
            List<TensorLocation> tensors) {
        this.name = name;
        this.version = version;
        this.inPlace = inPlace;
        this.buffers = List.copyOf(buffers);
        this.tensors = List.copyOf(tensors);
        this.byName = new HashMap<>();
        for (TensorLocation tensor : tensors) {
            byName.put(tensor.name(), tensor);
        }
        this.bytes = buffers.stream().mapToLong(MemoryRegion::size).sum();
    }

    public String name() {
        return name;
    }

    public String version() {
        return version;
    }

    /** True when the buffers are files mapped in place (read-only), false when they were read into pinned memory. */
    public boolean inPlace() {
        return inPlace;
    }

    /** The buffers, indexed by {@link TensorLocation#buffer()}. */
    public List<MemoryRegion> buffers() {
        return buffers;
    }

    /** The tensors in buffer order (files in the order given, tensors in file offset order). */
    public List<TensorLocation> tensors() {
        return tensors;
    }

    public Optional<TensorLocation> tensor(String tensorName) {
        return Optional.ofNullable(byName.get(tensorName));
    }

    /** Host memory held, the sum of the buffer sizes. */
    public long bytes() {
        return bytes;
    }

    /** The compact form the agent reports to the operator. */
    public CheckpointMetadata metadata() {
        return CheckpointMetadata.of(name, version, buffers.stream().map(MemoryRegion::size).toList(), tensors);
    }

    /** This version with {@code more} buffers after its own, holding {@code moreTensors} (buffer indices counted from 0 in {@code more}). */
    CheckpointVersion with(List<MemoryRegion> more, List<TensorLocation> moreTensors) {
        List<MemoryRegion> allBuffers = new ArrayList<>(buffers);
        allBuffers.addAll(more);
        List<TensorLocation> allTensors = new ArrayList<>(tensors);
        for (TensorLocation t : moreTensors) {
            allTensors.add(new TensorLocation(t.name(), t.dtype(), t.shape(), t.nbytes(), buffers.size() + t.buffer(), t.offset()));
        }
        return new CheckpointVersion(name, version, inPlace, allBuffers, allTensors);
    }

    void free() {
        buffers.forEach(MemoryRegion::close);
    }

    @Override
    public String toString() {
        return name + "@" + version;
    }
}
