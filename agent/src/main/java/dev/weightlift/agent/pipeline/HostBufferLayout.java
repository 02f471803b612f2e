package dev.weightlift.agent.pipeline;

import dev.weightlift.agent.device.FileWindow;
import dev.weightlift.agent.engine.HostRange;
import dev.weightlift.agent.engine.TensorEntry;
import dev.weightlift.agent.store.safetensors.Dtype;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntPredicate;

/**
 * Which buckets of one GPU's update the engine worker reads in place, from the host store's shared-memory
 * files, instead of from a copy in the shared buffer; and the worker's view of them. On the host backend the
 * "device" is host memory, so the copy into the shared buffer would only move bytes the worker can map
 * itself: reading in place leaves one copy per byte (the engine's load) instead of two.
 *
 * <p>A bucket is read in place when it is {@code eligible} (the caller's rule: this rank owns it and broadcasts
 * it to nobody) and every one of its tensors lies whole in one copy range whose source is a shared file, at an
 * offset aligned to its element size. Pure: computed once per update from the buckets.
 */
final class HostBufferLayout {

    /** Ranges of one file closer than this are read ahead as one (they are separated by alignment padding). */
    private static final long READ_AHEAD_GAP = 4096;

    private final List<FileWindow> files;
    private final List<List<TensorEntry>> tensors;
    private final List<HostRange> readAhead;

    private HostBufferLayout(List<FileWindow> files, List<List<TensorEntry>> tensors, List<HostRange> readAhead) {
        this.files = files;
        this.tensors = tensors;
        this.readAhead = readAhead;
    }

    /** Nothing read in place: every bucket goes through the shared buffer. */
    static HostBufferLayout none(int buckets) {
        return new HostBufferLayout(List.of(), Collections.nCopies(buckets, null), List.of());
    }

    static HostBufferLayout of(List<PipelineBucket> buckets, IntPredicate eligible) {
        Map<FileWindow, Integer> fileIndex = new LinkedHashMap<>();
        List<List<TensorEntry>> tensors = new ArrayList<>();
        List<HostRange> readAhead = new ArrayList<>();
        for (int g = 0; g < buckets.size(); g++) {
            List<TensorEntry> inPlace = eligible.test(g) ? inPlace(buckets.get(g), fileIndex) : null;
            tensors.add(inPlace);
            if (inPlace != null) {
                inPlace.forEach(t -> extend(readAhead, new HostRange(t.hostBuffer(), t.offset(), t.nbytes())));
            }
        }
        return new HostBufferLayout(List.copyOf(fileIndex.keySet()), tensors, List.copyOf(readAhead));
    }

    boolean inPlace(int g) {
        return tensors.get(g) != null;
    }

    boolean allInPlace() {
        return tensors.stream().allMatch(t -> t != null);
    }

    int inPlaceBuckets() {
        return (int) tensors.stream().filter(t -> t != null).count();
    }

    /** The worker's tensor list of in-place bucket {@code g}: offsets into {@link #files()}. */
    List<TensorEntry> tensors(int g) {
        List<TensorEntry> list = tensors.get(g);
        if (list == null) {
            throw new IllegalStateException("bucket " + g + " is not read in place");
        }
        return list;
    }

    /** The shared files the in-place buckets read, in the order of their first use. */
    List<FileWindow> files() {
        return files;
    }

    /** The bytes the in-place buckets read, in reading order, neighbours merged. */
    List<HostRange> readAhead() {
        return readAhead;
    }

    /**
     * The bucket's tensors as offsets into shared files (registered in {@code fileIndex} on success), or null
     * when one of them cannot be read in place.
     */
    private static List<TensorEntry> inPlace(PipelineBucket bucket, Map<FileWindow, Integer> fileIndex) {
        record Placed(TensorEntry tensor, FileWindow file, long offset) {
        }
        List<Placed> placed = new ArrayList<>();
        for (TensorEntry t : bucket.tensors()) {
            Optional<CopyRange> holder = bucket.ranges().stream().filter(r -> r.bucketOffset() <= t.offset()
                    && t.offset() + t.nbytes() <= r.bucketOffset() + r.length()).findFirst();
            Optional<FileWindow> window = holder.flatMap(r -> r.source().sharedFile());
            Dtype dtype = Dtype.byName(t.dtype());
            if (window.isEmpty() || dtype == null || dtype.bits() % 8 != 0) {
                return null;
            }
            long offset = holder.get().sourceOffset() + (t.offset() - holder.get().bucketOffset());
            if ((window.get().offset() + offset) % (dtype.bits() / 8) != 0) {
                return null;
            }
            placed.add(new Placed(t, window.get(), offset));
        }
        return placed.stream().map(p -> new TensorEntry(p.tensor().name(), p.tensor().dtype(), p.tensor().shape(),
                p.offset(), p.tensor().nbytes(), fileIndex.computeIfAbsent(p.file(), f -> fileIndex.size()))).toList();
    }

    /** Appends {@code next} to the read-ahead list, merged into the last range when it follows it closely. */
    private static void extend(List<HostRange> ranges, HostRange next) {
        if (!ranges.isEmpty()) {
            HostRange last = ranges.get(ranges.size() - 1);
            long lastEnd = last.offset() + last.length();
            long gap = next.offset() - lastEnd;
            if (last.buffer() == next.buffer() && gap >= -last.length() && gap <= READ_AHEAD_GAP) {
                long end = Math.max(lastEnd, next.offset() + next.length());
                long start = Math.min(last.offset(), next.offset());
                ranges.set(ranges.size() - 1, new HostRange(last.buffer(), start, end - start));
                return;
            }
        }
        ranges.add(next);
    }
}
