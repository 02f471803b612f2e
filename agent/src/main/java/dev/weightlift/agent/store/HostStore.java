package dev.weightlift.agent.store;

import dev.weightlift.agent.device.HostAllocator;
import dev.weightlift.agent.device.MemoryLimitException;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.store.safetensors.SafetensorsHeader;
import dev.weightlift.agent.store.safetensors.SafetensorsIndex;
import dev.weightlift.agent.store.safetensors.SafetensorsReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's checkpoints in host memory: named versions, each a set of buffers from the backend's host
 * allocator, read in parallel from safetensors files or mapped in place from /dev/shm; an explicit budget;
 * retention of the newest {@link HostStoreConfig#retainVersions()} versions per name, where a pinned
 * version (in use by an update) is never dropped. Thread-safe.
 */
public final class HostStore implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HostStore.class);

    private final HostAllocator allocator;
    private final HostStoreConfig config;
    private final ExecutorService readers;
    private final CheckpointLoader loader;
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private long reservedBytes;
    private boolean closed;

    public HostStore(HostAllocator allocator, HostStoreConfig config) {
        this.allocator = allocator;
        this.config = config;
        AtomicInteger threadNumber = new AtomicInteger();
        this.readers = Executors.newFixedThreadPool(config.readThreads(), task -> {
            Thread thread = new Thread(task, "host-store-read-" + threadNumber.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.loader = new CheckpointLoader(allocator, readers, config.loadTimeout());
    }

    /**
     * The configured buffer size, lowered to what the allocator can share with the engines (the host backend's
     * shared-memory files), so that the engines can read the store in place.
     */
    private long bufferCapacity() {
        long shared = allocator.largestSharedAllocation();
        return shared > 0 ? Math.min(config.bufferCapacity(), shared) : config.bufferCapacity();
    }

    /** A store with default settings whose budget is the allocator's whole limit. */
    public HostStore(HostAllocator allocator) {
        this(allocator, HostStoreConfig.defaults(allocator.limitBytes()));
    }

    /**
     * Reads the safetensors {@code files} into pinned host memory as {@code name@version}.
     *
     * @throws IOException                                  a file is unreadable or malformed (nothing stays loaded)
     * @throws MemoryLimitException                         the version does not fit the budget
     * @throws IllegalStateException                        the version is already held
     */
    public CheckpointVersion load(String name, String version, List<Path> files) throws IOException {
        List<SafetensorsHeader> headers = readHeaders(files);
        LoadPlan plan = LoadPlanner.copyPlan(headers, bufferCapacity(), config.chunkBytes());
        return admit(name, version, plan, false, () -> loader.read(files, headers, plan));
    }

    /**
     * Loads a checkpoint directory: the files named by its {@code model.safetensors.index.json} (checked
     * against their headers), or else every {@code *.safetensors} file in name order.
     */
    public CheckpointVersion loadDirectory(String name, String version, Path directory) throws IOException {
        Path indexFile = directory.resolve(SafetensorsIndex.FILE_NAME);
        if (Files.exists(indexFile)) {
            SafetensorsIndex index = SafetensorsIndex.read(indexFile);
            List<Path> files = index.files();
            index.verify(readHeaders(files));
            return load(name, version, files);
        }
        List<Path> files;
        try (Stream<Path> listing = Files.list(directory)) {
            files = listing.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IOException(directory + ": no " + SafetensorsIndex.FILE_NAME + " and no *.safetensors files");
        }
        return load(name, version, files);
    }

    /**
     * Registers safetensors files that already live in shared memory (/dev/shm) in place, without a copy:
     * their data regions are mapped read-only and count against the budget. The files must not change while
     * the version is held.
     */
    public CheckpointVersion registerInPlace(String name, String version, List<Path> files) throws IOException {
        List<SafetensorsHeader> headers = readHeaders(files);
        LoadPlan plan = LoadPlanner.mappedPlan(headers);
        return admit(name, version, plan, true, () -> loader.map(files, plan));
    }

    /** Fills freshly allocated buffers of a version that arrives from elsewhere than files (P2P reads). */
    @FunctionalInterface
    public interface Receiver {
        void fill(List<MemoryRegion> buffers) throws IOException;
    }

    /**
     * Allocates pinned buffers of {@code bufferSizes} and lets {@code receiver} fill them; the version holds
     * {@code tensors} (each inside its buffer). When the version is held already (a share of it), the buffers
     * are added to it and the tensors must be ones it lacks. Nothing new stays held when the receiver fails.
     */
    public CheckpointVersion receive(String name, String version, List<Long> bufferSizes, List<TensorLocation> tensors,
            Receiver receiver) throws IOException {
        for (TensorLocation t : tensors) {
            if (t.buffer() < 0 || t.buffer() >= bufferSizes.size() || t.offset() + t.nbytes() > bufferSizes.get(t.buffer())) {
                throw new IllegalArgumentException("checkpoint " + key(name, version) + ": tensor " + t.name() + " lies outside its buffer "
                        + t.buffer() + " of " + bufferSizes.size());
            }
        }
        LoadPlan plan = new LoadPlan(List.copyOf(bufferSizes), List.copyOf(tensors), List.of(), List.of(), List.of());
        Fill fill = () -> {
            List<MemoryRegion> buffers = new ArrayList<>();
            try {
                for (long size : bufferSizes) {
                    buffers.add(allocator.allocatePinned(size));
                }
                receiver.fill(buffers);
                return buffers;
            } catch (IOException | RuntimeException | Error e) {
                buffers.forEach(MemoryRegion::close);
                throw e;
            }
        };
        return get(name, version).isPresent() ? extend(name, version, plan, fill) : admit(name, version, plan, false, fill);
    }

    /**
     * Tops up the held {@code name@version} (a share of the checkpoint) with the tensors of {@code files} it
     * lacks, read by copy into new buffers; returns the version as held then (unchanged when it lacks none).
     *
     * @throws IllegalStateException the version is not held
     */
    public CheckpointVersion complete(String name, String version, List<Path> files) throws IOException {
        CheckpointVersion held = get(name, version)
                .orElseThrow(() -> new IllegalStateException("host store holds no checkpoint " + key(name, version) + " to complete"));
        List<SafetensorsHeader> headers = readHeaders(files);
        boolean lacks = headers.stream().flatMap(h -> h.tensors().stream()).anyMatch(t -> held.tensor(t.name()).isEmpty());
        if (!lacks) {
            return held;
        }
        LoadPlan plan = LoadPlanner.copyPlan(headers, bufferCapacity(), config.chunkBytes(), t -> held.tensor(t).isEmpty());
        return extend(name, version, plan, () -> loader.read(files, headers, plan));
    }

    public synchronized Optional<CheckpointVersion> get(String name, String version) {
        Entry entry = entries.get(key(name, version));
        return entry == null || entry.loaded == null ? Optional.empty() : Optional.of(entry.loaded);
    }

    /** The newest loaded version of {@code name}. */
    public synchronized Optional<CheckpointVersion> current(String name) {
        List<CheckpointVersion> versions = versions(name);
        return versions.isEmpty() ? Optional.empty() : Optional.of(versions.get(versions.size() - 1));
    }

    /** The loaded versions of {@code name}, oldest first. */
    public synchronized List<CheckpointVersion> versions(String name) {
        return entries.values().stream().filter(e -> e.loaded != null && e.name.equals(name)).map(e -> e.loaded)
                .toList();
    }

    /** Every loaded version, oldest first. */
    public synchronized List<CheckpointVersion> all() {
        return entries.values().stream().filter(e -> e.loaded != null).map(e -> e.loaded).toList();
    }

    /**
     * Keeps {@code name@version} in memory until the pin is closed.
     *
     * @param holder who pins it (an update's name), for errors and logs
     * @throws IllegalStateException when the version is not held
     */
    public synchronized CheckpointPin pin(String name, String version, String holder) {
        Entry entry = entries.get(key(name, version));
        if (entry == null || entry.loaded == null) {
            throw new IllegalStateException("host store holds no checkpoint " + key(name, version) + " for " + holder);
        }
        entry.pins.put(holder, entry.pins.getOrDefault(holder, 0) + 1);
        AtomicBoolean open = new AtomicBoolean(true);
        CheckpointVersion loaded = entry.loaded;
        return new CheckpointPin() {
            @Override
            public CheckpointVersion version() {
                return loaded;
            }

            @Override
            public void close() {
                if (open.compareAndSet(true, false)) {
                    unpin(entry, holder);
                }
            }
        };
    }

    /**
     * Drops {@code name@version} and frees its memory.
     *
     * @throws IllegalStateException when an update pins it
     * @return whether it was held
     */
    public boolean release(String name, String version) {
        CheckpointVersion freed;
        synchronized (this) {
            Entry entry = entries.get(key(name, version));
            if (entry == null || entry.loaded == null) {
                return false;
            }
            if (!entry.pins.isEmpty()) {
                throw new IllegalStateException("checkpoint " + entry.loaded + " is in use by " + entry.pins.keySet()
                        + " and cannot be released");
            }
            freed = remove(entry);
        }
        free(freed, "released");
        return true;
    }

    /** Host memory held by loaded versions and loads in progress. */
    /** Host memory given back by dropped versions and kept for the next load (the allocator's pool). */
    public long bytesPooled() {
        return allocator.bytesPooled();
    }

    public synchronized long bytesInUse() {
        return reservedBytes;
    }

    public long budgetBytes() {
        return config.budgetBytes();
    }

    /** Frees every version, pinned or not, and stops the reader threads. */
    @Override
    public void close() {
        List<CheckpointVersion> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>();
            for (Entry entry : new ArrayList<>(entries.values())) {
                if (entry.loaded != null) {
                    all.add(remove(entry));
                }
            }
        }
        all.forEach(v -> free(v, "store closed"));
        readers.shutdownNow();
    }

    private interface Fill {
        List<MemoryRegion> run() throws IOException;
    }

    private CheckpointVersion admit(String name, String version, LoadPlan plan, boolean inPlace, Fill fill)
            throws IOException {
        Entry entry = reserve(name, version, plan.totalBytes());
        long started = System.nanoTime();
        List<MemoryRegion> buffers;
        try {
            buffers = fill.run();
        } catch (IOException | RuntimeException | Error e) {
            synchronized (this) {
                entries.remove(entry.key());
                reservedBytes -= entry.bytes;
            }
            LOG.warn("checkpoint load failed checkpoint={} version={} error={}", name, version, e.toString());
            throw e;
        }
        CheckpointVersion loaded = new CheckpointVersion(name, version, inPlace, buffers, plan.tensors());
        List<CheckpointVersion> dropped;
        synchronized (this) {
            if (closed) {
                entries.remove(entry.key());
                reservedBytes -= entry.bytes;
                loaded.free();
                throw new IllegalStateException("host store closed while loading " + entry.key());
            }
            entry.loaded = loaded;
            dropped = retire(name);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        LOG.info("checkpoint {} checkpoint={} version={} tensors={} buffers={} bytes={} seconds={} GBps={}",
                inPlace ? "mapped" : "loaded", name, version, plan.tensors().size(), buffers.size(), loaded.bytes(),
                String.format("%.3f", seconds), String.format("%.2f", loaded.bytes() / seconds / 1e9));
        dropped.forEach(v -> free(v, "retention"));
        return loaded;
    }

    /** Adds the buffers {@code fill} makes (holding {@code plan}'s tensors) to the held version; its pins stay valid. */
    private CheckpointVersion extend(String name, String version, LoadPlan plan, Fill fill) throws IOException {
        String key = key(name, version);
        long bytes = plan.totalBytes();
        Entry entry;
        synchronized (this) {
            entry = entries.get(key);
            if (closed || entry == null || entry.loaded == null) {
                throw new IllegalStateException("host store holds no checkpoint " + key + " to top up");
            }
            if (entry.extending) {
                throw new IllegalStateException("checkpoint " + key + " is being topped up already");
            }
            for (TensorLocation t : plan.tensors()) {
                if (entry.loaded.tensor(t.name()).isPresent()) {
                    throw new IllegalArgumentException("checkpoint " + key + " holds tensor " + t.name() + " already");
                }
            }
            if (bytes > config.budgetBytes() - reservedBytes) {
                throw new MemoryLimitException("host store: topping up checkpoint " + key + " (held: " + heldSummary() + ")", bytes,
                        reservedBytes, config.budgetBytes());
            }
            entry.extending = true;
            reservedBytes += bytes;
        }
        List<MemoryRegion> buffers;
        try {
            buffers = fill.run();
        } catch (IOException | RuntimeException | Error e) {
            synchronized (this) {
                entry.extending = false;
                reservedBytes -= bytes;
            }
            LOG.warn("checkpoint top-up failed checkpoint={} version={} error={}", name, version, e.toString());
            throw e;
        }
        CheckpointVersion grown;
        synchronized (this) {
            entry.extending = false;
            if (closed || entries.get(key) != entry || entry.loaded == null) {
                reservedBytes -= bytes;
                buffers.forEach(MemoryRegion::close);
                throw new IllegalStateException("checkpoint " + key + " was dropped while being topped up");
            }
            grown = entry.loaded.with(buffers, plan.tensors());
            entry.loaded = grown;
            entry.bytes += bytes;
        }
        LOG.info("checkpoint topped up checkpoint={} version={} tensors={} bytes={} heldBytes={}", name, version, plan.tensors().size(),
                bytes, grown.bytes());
        return grown;
    }

    private synchronized Entry reserve(String name, String version, long bytes) {
        if (closed) {
            throw new IllegalStateException("host store is closed");
        }
        String key = key(name, version);
        if (entries.containsKey(key)) {
            throw new IllegalStateException("host store already holds or loads checkpoint " + key);
        }
        if (bytes > config.budgetBytes() - reservedBytes) {
            throw new MemoryLimitException("host store: checkpoint " + key + " (held: " + heldSummary() + ")", bytes,
                    reservedBytes, config.budgetBytes());
        }
        Entry entry = new Entry(name, version, bytes);
        entries.put(key, entry);
        reservedBytes += bytes;
        return entry;
    }

    /** Versions of {@code name} beyond retention that no update pins; they leave the store now. */
    private List<CheckpointVersion> retire(String name) {
        List<Entry> loaded = entries.values().stream().filter(e -> e.loaded != null && e.name.equals(name)).toList();
        List<CheckpointVersion> dropped = new ArrayList<>();
        for (int i = 0; i < loaded.size() - config.retainVersions(); i++) {
            Entry old = loaded.get(i);
            old.retired = true;
            if (old.pins.isEmpty()) {
                dropped.add(remove(old));
            }
        }
        return dropped;
    }

    private void unpin(Entry entry, String holder) {
        CheckpointVersion dropped = null;
        synchronized (this) {
            int count = entry.pins.getOrDefault(holder, 0) - 1;
            if (count > 0) {
                entry.pins.put(holder, count);
            } else {
                entry.pins.remove(holder);
            }
            if (entry.pins.isEmpty() && entry.retired && entry.loaded != null && entries.get(entry.key()) == entry) {
                dropped = remove(entry);
            }
        }
        if (dropped != null) {
            free(dropped, "retention after unpin");
        }
    }

    private CheckpointVersion remove(Entry entry) {
        entries.remove(entry.key());
        reservedBytes -= entry.bytes;
        CheckpointVersion loaded = entry.loaded;
        entry.loaded = null;
        return loaded;
    }

    private static void free(CheckpointVersion version, String why) {
        version.free();
        LOG.info("checkpoint dropped checkpoint={} version={} bytes={} reason={}", version.name(), version.version(),
                version.bytes(), why);
    }

    private String heldSummary() {
        return entries.values().stream().map(e -> e.key() + (e.pins.isEmpty() ? "" : " pinned") + " " + e.bytes + " B")
                .toList().toString();
    }

    private List<SafetensorsHeader> readHeaders(List<Path> files) throws IOException {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("a checkpoint needs at least one file");
        }
        List<SafetensorsHeader> headers = new ArrayList<>(files.size());
        for (Path file : files) {
            headers.add(SafetensorsReader.read(file));
        }
        return headers;
    }

    private static String key(String name, String version) {
        return name + "@" + version;
    }

    private static final class Entry {
        final String name;
        final String version;
        long bytes;
        final Map<String, Integer> pins = new LinkedHashMap<>();
        CheckpointVersion loaded;
        boolean retired;
        boolean extending;

        Entry(String name, String version, long bytes) {
            this.name = name;
            this.version = version;
            this.bytes = bytes;
        }

        String key() {
            return HostStore.key(name, version);
        }
    }
}
