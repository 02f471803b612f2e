package dev.weightlift.agent.store;

import dev.weightlift.agent.device.NativeMemory;
import dev.weightlift.agent.store.safetensors.SafetensorsException;
import dev.weightlift.agent.store.safetensors.SafetensorsHeader;
import dev.weightlift.agent.store.safetensors.TensorInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Pure planning of how checkpoint files map to buffers (no I/O). */
final class LoadPlanner {

    /** Buffer and tensor slot alignment, as checkpoint-engine's. */
    static final int ALIGNMENT = 256;

    private LoadPlanner() {
    }

    /**
     * Copy layout: the files' tensors in file and offset order, each at a 256-byte aligned slot, packed
     * greedily into buffers of {@code max(bufferCapacity, largest slot)}; reads coalesced where file and slot
     * layout agree and cut into pieces of at most {@code chunkBytes} so that threads share big tensors.
     */
    static LoadPlan copyPlan(List<SafetensorsHeader> files, long bufferCapacity, long chunkBytes)
            throws SafetensorsException {
        return copyPlan(files, bufferCapacity, chunkBytes, name -> true);
    }

    /** The copy layout of only the tensors {@code wanted} names (the rest of the files is not read). */
    static LoadPlan copyPlan(List<SafetensorsHeader> files, long bufferCapacity, long chunkBytes, Predicate<String> wanted)
            throws SafetensorsException {
        checkUniqueNames(files);
        long capacity = bufferCapacity;
        for (SafetensorsHeader file : files) {
            for (TensorInfo tensor : file.tensors()) {
                capacity = Math.max(capacity, align(tensor.nbytes()));
            }
        }
        List<Long> bufferSizes = new ArrayList<>();
        List<TensorLocation> tensors = new ArrayList<>();
        List<LoadPlan.Read> reads = new ArrayList<>();
        List<BufferRange> padding = new ArrayList<>();
        int buffer = -1;
        long used = 0;
        for (int f = 0; f < files.size(); f++) {
            SafetensorsHeader file = files.get(f);
            for (TensorInfo tensor : file.tensors()) {
                if (!wanted.test(tensor.name())) {
                    continue;
                }
                long slot = align(tensor.nbytes());
                if (buffer < 0 || used + slot > capacity) {
                    if (buffer >= 0) {
                        bufferSizes.add(used);
                    }
                    buffer++;
                    used = 0;
                }
                tensors.add(new TensorLocation(tensor.name(), tensor.dtype(), tensor.shape(), tensor.nbytes(), buffer,
                        used));
                if (tensor.nbytes() > 0) {
                    addRead(reads, new LoadPlan.Read(f, file.dataStart() + tensor.begin(), buffer, used, tensor.nbytes()),
                            chunkBytes);
                }
                if (slot > tensor.nbytes()) {
                    padding.add(new BufferRange(buffer, used + tensor.nbytes(), slot - tensor.nbytes()));
                }
                used += slot;
            }
        }
        if (buffer >= 0) {
            bufferSizes.add(used);
        }
        if (bufferSizes.stream().mapToLong(Long::longValue).sum() == 0) {
            throw new SafetensorsException(names(files), null, "the checkpoint holds no tensor data");
        }
        return new LoadPlan(bufferSizes, tensors, reads, padding, List.of());
    }

    /**
     * In-place layout: each file's data region is mapped as it is, in windows of at most NIO's mapping limit
     * that end at tensor boundaries; tensors keep their file offsets.
     */
    static LoadPlan mappedPlan(List<SafetensorsHeader> files) throws SafetensorsException {
        checkUniqueNames(files);
        List<Long> bufferSizes = new ArrayList<>();
        List<TensorLocation> tensors = new ArrayList<>();
        List<LoadPlan.Window> windows = new ArrayList<>();
        for (int f = 0; f < files.size(); f++) {
            SafetensorsHeader file = files.get(f);
            long windowStart = 0;
            int firstBuffer = bufferSizes.size();
            List<TensorInfo> sorted = file.tensors();
            for (int i = 0; i < sorted.size(); i++) {
                TensorInfo tensor = sorted.get(i);
                if (tensor.nbytes() > NativeMemory.MAX_VIEW_BYTES) {
                    throw new SafetensorsException(file.file(), tensor.name(), tensor.nbytes()
                            + " bytes: in-place mapping holds at most " + NativeMemory.MAX_VIEW_BYTES
                            + " bytes per tensor (NIO's mapping limit); load the file by copy instead");
                }
                if (tensor.end() - windowStart > NativeMemory.MAX_VIEW_BYTES) {
                    windows.add(new LoadPlan.Window(f, file.dataStart() + windowStart, tensor.begin() - windowStart));
                    bufferSizes.add(tensor.begin() - windowStart);
                    windowStart = tensor.begin();
                }
                tensors.add(new TensorLocation(tensor.name(), tensor.dtype(), tensor.shape(), tensor.nbytes(),
                        bufferSizes.size(), tensor.begin() - windowStart));
            }
            if (file.dataLength() > windowStart) {
                windows.add(new LoadPlan.Window(f, file.dataStart() + windowStart, file.dataLength() - windowStart));
                bufferSizes.add(file.dataLength() - windowStart);
            } else if (bufferSizes.size() == firstBuffer && !sorted.isEmpty()) {
                throw new SafetensorsException(file.file(), null, "holds no tensor data to map");
            }
        }
        if (bufferSizes.isEmpty()) {
            throw new SafetensorsException(names(files), null, "the checkpoint holds no tensor data");
        }
        return new LoadPlan(bufferSizes, tensors, List.of(), List.of(), windows);
    }

    static long align(long bytes) {
        return Math.addExact(bytes, ALIGNMENT - 1) & -(long) ALIGNMENT;
    }

    private static void addRead(List<LoadPlan.Read> reads, LoadPlan.Read read, long chunkBytes) {
        LoadPlan.Read last = reads.isEmpty() ? null : reads.get(reads.size() - 1);
        long position = read.position();
        long offset = read.bufferOffset();
        long remaining = read.length();
        if (last != null && last.file() == read.file() && last.buffer() == read.buffer()
                && last.position() + last.length() == position && last.bufferOffset() + last.length() == offset
                && last.length() < chunkBytes) {
            long take = Math.min(remaining, chunkBytes - last.length());
            reads.set(reads.size() - 1, new LoadPlan.Read(last.file(), last.position(), last.buffer(),
                    last.bufferOffset(), last.length() + take));
            position += take;
            offset += take;
            remaining -= take;
        }
        while (remaining > 0) {
            long take = Math.min(remaining, chunkBytes);
            reads.add(new LoadPlan.Read(read.file(), position, read.buffer(), offset, take));
            position += take;
            offset += take;
            remaining -= take;
        }
    }

    private static void checkUniqueNames(List<SafetensorsHeader> files) throws SafetensorsException {
        Map<String, String> seen = new HashMap<>();
        for (SafetensorsHeader file : files) {
            for (TensorInfo tensor : file.tensors()) {
                String other = seen.putIfAbsent(tensor.name(), file.file());
                if (other != null) {
                    throw new SafetensorsException(file.file(), tensor.name(), "also defined in " + other);
                }
            }
        }
    }

    private static String names(List<SafetensorsHeader> files) {
        return files.stream().map(SafetensorsHeader::file).toList().toString();
    }
}
