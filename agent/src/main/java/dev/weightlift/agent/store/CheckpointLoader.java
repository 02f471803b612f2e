package dev.weightlift.agent.store;

import dev.weightlift.agent.device.HostAllocator;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.NativeMemory;
import dev.weightlift.agent.store.safetensors.SafetensorsHeader;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Carries out a {@link LoadPlan}: allocates the buffers, runs the positional reads in parallel (or maps the
 * windows), and on any failure frees everything it took before rethrowing.
 */
final class CheckpointLoader {

    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    private final HostAllocator allocator;
    private final ExecutorService readers;
    private final Duration timeout;

    CheckpointLoader(HostAllocator allocator, ExecutorService readers, Duration timeout) {
        this.allocator = allocator;
        this.readers = readers;
        this.timeout = timeout;
    }

    List<MemoryRegion> read(List<Path> files, List<SafetensorsHeader> headers, LoadPlan plan) throws IOException {
        List<MemoryRegion> buffers = new ArrayList<>();
        List<FileChannel> channels = new ArrayList<>();
        try {
            for (long size : plan.bufferSizes()) {
                buffers.add(allocator.allocatePinned(size));
            }
            for (int f = 0; f < files.size(); f++) {
                FileChannel channel = FileChannel.open(files.get(f), StandardOpenOption.READ);
                channels.add(channel);
                SafetensorsHeader header = headers.get(f);
                if (channel.size() != header.dataStart() + header.dataLength()) {
                    throw new IOException(files.get(f) + ": the file changed size since its header was read ("
                            + channel.size() + " bytes, expected " + (header.dataStart() + header.dataLength()) + ")");
                }
            }
            for (BufferRange pad : plan.padding()) {
                NativeMemory.fill(buffers.get(pad.buffer()).address() + pad.offset(), 0, pad.length());
            }
            runReads(files, channels, buffers, plan.reads());
            return buffers;
        } catch (ReadersStillRunning e) {
            throw new IOException(e.getMessage() + "; its " + buffers.size() + " buffers stay allocated", e);
        } catch (IOException | RuntimeException | Error e) {
            buffers.forEach(MemoryRegion::close);
            throw e;
        } finally {
            for (FileChannel channel : channels) {
                channel.close();
            }
        }
    }

    List<MemoryRegion> map(List<Path> files, LoadPlan plan) throws IOException {
        List<MemoryRegion> buffers = new ArrayList<>();
        try {
            for (LoadPlan.Window window : plan.windows()) {
                buffers.add(allocator.mapPinned(files.get(window.file()), window.position(), window.length()));
            }
            return buffers;
        } catch (IOException | RuntimeException | Error e) {
            buffers.forEach(MemoryRegion::close);
            throw e;
        }
    }

    private void runReads(List<Path> files, List<FileChannel> channels, List<MemoryRegion> buffers,
            List<LoadPlan.Read> reads) throws IOException {
        AtomicBoolean failed = new AtomicBoolean();
        CountDownLatch finished = new CountDownLatch(reads.size());
        List<Future<?>> futures = new ArrayList<>(reads.size());
        for (LoadPlan.Read read : reads) {
            futures.add(readers.submit(() -> {
                try {
                    if (!failed.get()) {
                        readOne(files.get(read.file()), channels.get(read.file()), buffers.get(read.buffer()), read,
                                failed);
                    }
                    return null;
                } finally {
                    finished.countDown();
                }
            }));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException failure = null;
        for (Future<?> future : futures) {
            try {
                future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                failed.set(true);
                if (failure == null) {
                    failure = e.getCause() instanceof IOException io ? io : new IOException(e.getCause().getMessage(),
                            e.getCause());
                }
            } catch (TimeoutException e) {
                failed.set(true);
                if (failure == null) {
                    failure = new IOException("loading " + files + " took longer than " + timeout);
                }
                future.cancel(true);
            } catch (InterruptedException e) {
                failed.set(true);
                Thread.currentThread().interrupt();
                futures.forEach(f -> f.cancel(true));
                failure = new InterruptedIOException("interrupted while loading " + files);
                break;
            }
        }
        if (failure != null) {
            awaitReaders(finished, files);
            throw failure;
        }
    }

    /** Reader threads must be out of the buffers before they are freed. */
    private static void awaitReaders(CountDownLatch finished, List<Path> files) {
        boolean done;
        try {
            done = finished.await(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done = false;
        }
        if (!done) {
            throw new ReadersStillRunning("reads of " + files + " did not stop within " + STOP_GRACE);
        }
    }

    private static final class ReadersStillRunning extends RuntimeException {
        ReadersStillRunning(String message) {
            super(message);
        }
    }

    private static void readOne(Path file, FileChannel channel, MemoryRegion buffer, LoadPlan.Read read,
            AtomicBoolean failed) throws IOException {
        ByteBuffer into = buffer.view(read.bufferOffset(), (int) read.length());
        long position = read.position();
        while (into.hasRemaining() && !failed.get()) {
            int n = channel.read(into, position);
            if (n < 0) {
                throw new IOException(file + ": the file ended at " + position + " while reading "
                        + read.length() + " bytes at " + read.position());
            }
            position += n;
        }
    }
}
