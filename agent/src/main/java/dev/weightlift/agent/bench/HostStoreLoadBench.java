package dev.weightlift.agent.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.host.HostMemoryAllocator;
import dev.weightlift.agent.store.CheckpointVersion;
import dev.weightlift.agent.store.HostStore;
import dev.weightlift.agent.store.HostStoreConfig;
import dev.weightlift.agent.store.TensorLocation;
import dev.weightlift.agent.store.safetensors.SafetensorsHeader;
import dev.weightlift.agent.store.safetensors.SafetensorsReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Host store load throughput from a warm page cache, next to the bound measured in the same run: one thread
 * reading the same files sequentially, in 64 MiB reads, into freshly allocated pinned buffers of the same
 * sizes from the same allocator (so both pay the same first-touch cost of new memory). Each run measures the bound and then a
 * store load back to back; the figure is the median over runs of store / bound of the same run, which
 * cancels most of the noise of a shared machine. Prints {@code ratio=R} last.
 *
 * <p>Arguments: {@code --dir D} (default /tmp/weightlift-load-bench), {@code --gib G} (4), {@code --files F}
 * (8), {@code --threads T} (store default), {@code --runs N} (9).
 */
public final class HostStoreLoadBench {

    private static final int BOUND_READ = 64 << 20;

    private HostStoreLoadBench() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(arg(args, "--dir", "/tmp/weightlift-load-bench"));
        long totalBytes = (long) (Double.parseDouble(arg(args, "--gib", "4")) * (1L << 30));
        int fileCount = Integer.parseInt(arg(args, "--files", "8"));
        int runs = Integer.parseInt(arg(args, "--runs", "9"));
        HostStoreConfig defaults = HostStoreConfig.defaults(totalBytes * 2);
        int threads = Integer.parseInt(arg(args, "--threads", String.valueOf(defaults.readThreads())));
        HostStoreConfig config = new HostStoreConfig(defaults.budgetBytes(), 1, defaults.bufferCapacity(),
                defaults.chunkBytes(), threads, defaults.loadTimeout());

        List<Path> files = generate(dir, totalBytes, fileCount);
        long dataBytes = 0;
        int tensorCount = 0;
        List<Long> dataStarts = new ArrayList<>();
        for (Path file : files) {
            SafetensorsHeader header = SafetensorsReader.read(file);
            dataBytes += header.dataLength();
            tensorCount += header.tensors().size();
            dataStarts.add(header.dataStart());
        }
        System.out.printf("checkpoint: %.2f GiB of tensor data, %d tensors in %d files under %s%n",
                dataBytes / (double) (1L << 30), tensorCount, files.size(), dir);
        System.out.printf("store: %d read threads, %d MiB reads, %d MiB buffers; cores: %d; load average: %s%n",
                threads, config.chunkBytes() >> 20, config.bufferCapacity() >> 20,
                Runtime.getRuntime().availableProcessors(), Files.readString(Path.of("/proc/loadavg")).trim());

        double[] ratio = new double[runs];
        double[] store = new double[runs];
        double[] bound = new double[runs];
        try (HostMemoryAllocator allocator = new HostMemoryAllocator(totalBytes * 3);
                HostStore hostStore = new HostStore(allocator, config)) {
            List<Long> bufferSizes = warmUp(hostStore, files);
            for (int run = 0; run < runs; run++) {
                bound[run] = dataBytes / sequentialRead(allocator, files, dataStarts, bufferSizes) / 1e9;
                long start = System.nanoTime();
                CheckpointVersion version = hostStore.load("bench", "run" + run, files);
                store[run] = dataBytes / ((System.nanoTime() - start) / 1e9) / 1e9;
                verifySample(version, files);
                hostStore.release("bench", "run" + run);
                ratio[run] = store[run] / bound[run];
                System.out.printf("run %d: store %.2f GB/s, bound %.2f GB/s, ratio %.2f%n", run + 1, store[run],
                        bound[run], ratio[run]);
            }
        }
        System.out.printf("store: median %.2f GB/s, best %.2f GB/s%n", median(store),
                Arrays.stream(store).max().orElseThrow());
        System.out.printf("bound (one thread reading the files sequentially into fresh pinned buffers of the same"
                + " sizes): median %.2f GB/s, best %.2f GB/s%n", median(bound), Arrays.stream(bound).max().orElseThrow());
        System.out.printf("load average: %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
        System.out.printf("ratio=%.2f%n", median(ratio));
    }

    /** Reads the files once (page cache warm) and returns the buffer sizes the store uses for them. */
    private static List<Long> warmUp(HostStore store, List<Path> files) throws IOException {
        CheckpointVersion version = store.load("bench", "warm-up", files);
        List<Long> sizes = version.buffers().stream().map(MemoryRegion::size).toList();
        store.release("bench", "warm-up");
        return sizes;
    }

    /** Seconds for one thread to read every file's data region, in order, into new buffers of {@code sizes}. */
    private static double sequentialRead(HostMemoryAllocator allocator, List<Path> files, List<Long> dataStarts,
            List<Long> sizes) throws IOException {
        long start = System.nanoTime();
        List<MemoryRegion> buffers = new ArrayList<>();
        try {
            for (long size : sizes) {
                buffers.add(allocator.allocatePinned(size));
            }
            int buffer = 0;
            long offset = 0;
            for (int f = 0; f < files.size(); f++) {
                try (FileChannel channel = FileChannel.open(files.get(f), StandardOpenOption.READ)) {
                    long position = dataStarts.get(f);
                    while (position < channel.size()) {
                        if (offset == buffers.get(buffer).size()) {
                            buffer++;
                            offset = 0;
                        }
                        int length = (int) Math.min(BOUND_READ, Math.min(channel.size() - position,
                                buffers.get(buffer).size() - offset));
                        ByteBuffer into = buffers.get(buffer).view(offset, length);
                        while (into.hasRemaining()) {
                            position += channel.read(into, position);
                        }
                        offset += length;
                    }
                }
            }
            return (System.nanoTime() - start) / 1e9;
        } finally {
            buffers.forEach(MemoryRegion::close);
        }
    }

    private static void verifySample(CheckpointVersion version, List<Path> files) throws IOException {
        for (Path file : files) {
            SafetensorsHeader header = SafetensorsReader.read(file);
            var info = header.tensors().get(header.tensors().size() / 2);
            TensorLocation location = version.tensor(info.name()).orElseThrow();
            int length = (int) Math.min(4096, info.nbytes());
            ByteBuffer expected = ByteBuffer.allocate(length);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                channel.read(expected, header.dataStart() + info.begin());
            }
            if (!expected.flip().equals(version.buffers().get(location.buffer()).view(location.offset(), length))) {
                throw new IllegalStateException("loaded bytes of " + info.name() + " differ from " + file);
            }
        }
    }

    /**
     * Files of about {@code totalBytes / fileCount} bytes each: BF16 matrices of 1 to 64 MiB with odd row
     * counts (so slots need padding and reads split at tensors) and a small norm vector after each.
     */
    private static List<Path> generate(Path dir, long totalBytes, int fileCount) throws IOException {
        Files.createDirectories(dir);
        Random random = new Random(42);
        ByteBuffer noise = ByteBuffer.allocateDirect(64 << 20);
        byte[] chunk = new byte[1 << 20];
        while (noise.hasRemaining()) {
            random.nextBytes(chunk);
            noise.put(chunk, 0, Math.min(chunk.length, noise.remaining()));
        }
        ObjectMapper json = new ObjectMapper();
        List<Path> files = new ArrayList<>();
        for (int f = 0; f < fileCount; f++) {
            Path file = dir.resolve(String.format("model-%05d-of-%05d.safetensors", f + 1, fileCount));
            files.add(file);
            ObjectNode header = json.createObjectNode();
            header.putObject("__metadata__").put("format", "pt");
            long offset = 0;
            for (int t = 0; offset < totalBytes / fileCount; t++) {
                long rows = 2 * (random.nextInt(4096) + 1) + 1;
                long cols = 4096;
                offset = addTensor(header, "model.layers." + f + "." + t + ".mlp.weight", new long[] {rows, cols}, offset);
                offset = addTensor(header, "model.layers." + f + "." + t + ".norm.weight", new long[] {cols + 3}, offset);
            }
            byte[] headerBytes = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
            int padded = (headerBytes.length + 7) / 8 * 8;
            long expectedSize = 8 + padded + offset;
            if (Files.exists(file) && Files.size(file) == expectedSize) {
                continue;
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN).putLong(padded)
                        .put(headerBytes);
                while (prefix.hasRemaining()) {
                    prefix.put((byte) ' ');
                }
                channel.write(prefix.flip());
                for (long written = 0; written < offset;) {
                    ByteBuffer slice = noise.duplicate().position(0).limit((int) Math.min(noise.capacity(), offset - written));
                    written += channel.write(slice);
                }
            }
        }
        return files;
    }

    private static long addTensor(ObjectNode header, String name, long[] shape, long offset) {
        long nbytes = 2 * Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        ObjectNode tensor = header.putObject(name);
        tensor.put("dtype", "BF16");
        var shapeNode = tensor.putArray("shape");
        Arrays.stream(shape).forEach(shapeNode::add);
        tensor.putArray("data_offsets").add(offset).add(offset + nbytes);
        return offset + nbytes;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static String arg(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }
}
