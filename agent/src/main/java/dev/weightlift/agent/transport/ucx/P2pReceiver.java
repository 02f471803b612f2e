package dev.weightlift.agent.transport.ucx;

import dev.weightlift.agent.device.MemoryRegion;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.ucp.UcpContext;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointParams;
import org.openucx.jucx.ucp.UcpMemMapParams;
import org.openucx.jucx.ucp.UcpMemory;
import org.openucx.jucx.ucp.UcpRemoteKey;
import org.openucx.jucx.ucp.UcpRequest;
import org.openucx.jucx.ucp.UcpWorker;
import org.openucx.jucx.ucp.UcpWorkerParams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reading side of P2P: connects to holders (one endpoint per holder, kept for later reads) and reads
 * assigned ranges of their buffers with one-sided gets straight into a staging region, in chunks with
 * many in flight, each read with a deadline. The caller's thread drives UCX during {@link #read}, sleeping
 * on the worker's events when there is nothing to do (a timer wakes it every 50 ms to check the deadline); a
 * receiver is used by one thread at a time. Closing releases the staging registrations, remote keys and
 * endpoints.
 */
public final class P2pReceiver implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(P2pReceiver.class);
    private static final ScheduledExecutorService WAKER = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "p2p-receiver-deadlines");
        thread.setDaemon(true);
        return thread;
    });
    /** How often a sleeping read wakes to check its deadline (and progress anything that raised no event). */
    private static final Duration WAKE_EVERY = Duration.ofMillis(50);
    private static final Duration CANCEL_WAIT = Duration.ofSeconds(1);

    private final P2pReceiverOptions options;
    private final UcpContext context;
    private final UcpWorker worker;
    private final Map<InetSocketAddress, Holder> holders = new HashMap<>();
    private final Map<MemoryRegion, UcpMemory> registrations = new IdentityHashMap<>();
    private final AtomicLong bytesRead = new AtomicLong();
    private boolean closed;

    /** One holder's endpoint and the remote keys unpacked on it. */
    private static final class Holder {
        final InetSocketAddress address;
        final UcpEndpoint endpoint;
        final Map<BufferDescriptor, UcpRemoteKey> keys = new HashMap<>();
        volatile String broken;

        Holder(InetSocketAddress address, UcpEndpoint endpoint) {
            this.address = address;
            this.endpoint = endpoint;
        }
    }

    /** One get in flight or waiting. */
    private record Chunk(RangeRead read, Holder holder, long remoteAddress, long localAddress, long length) {
    }

    private P2pReceiver(P2pReceiverOptions options, UcpContext context, UcpWorker worker) {
        this.options = options;
        this.context = context;
        this.worker = worker;
    }

    /** A receiver with its own UCX context; fails clearly when UCX is missing. */
    public static P2pReceiver create(P2pReceiverOptions options) {
        UcpContext context = Ucx.newContext();
        try {
            return new P2pReceiver(options, context, context.newWorker(new UcpWorkerParams()));
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
    }

    /**
     * Reads every range into {@code staging} (host memory registered once per region and kept until
     * {@link #release} or close). Returns when every byte arrived; throws {@link P2pException} naming the
     * holder and range when a holder fails or goes away, or when {@code timeout} passes first.
     */
    public void read(List<RangeRead> reads, MemoryRegion staging, Duration timeout) {
        read(reads, staging, timeout, () -> null);
    }

    /**
     * As {@link #read(List, MemoryRegion, Duration)}, and stops within about {@link #WAKE_EVERY} (cancelling the
     * reads in flight) once {@code stopReason} returns a reason, throwing a {@link P2pException} that gives it.
     */
    public synchronized void read(List<RangeRead> reads, MemoryRegion staging, Duration timeout, Supplier<String> stopReason) {
        if (closed) {
            throw new IllegalStateException("the P2P receiver is closed");
        }
        for (RangeRead read : reads) {
            if (read.stagingOffset() > staging.size() - read.length()) {
                throw new IllegalArgumentException("read " + read + " passes the end of " + staging + " (" + staging.size() + " B)");
            }
        }
        registration(staging);
        long deadline = System.nanoTime() + timeout.toNanos();
        Deque<Chunk> waiting = new ArrayDeque<>();
        for (RangeRead read : reads) {
            Holder holder = holder(read.holder());
            for (long done = 0; done < read.length(); done += options.chunkBytes()) {
                long length = Math.min(options.chunkBytes(), read.length() - done);
                waiting.add(new Chunk(read, holder, read.buffer().address() + read.bufferOffset() + done,
                        staging.address() + read.stagingOffset() + done, length));
            }
        }
        Transfer transfer = new Transfer();
        ScheduledFuture<?> wakeUp = WAKER.scheduleAtFixedRate(worker::signal, WAKE_EVERY.toMillis(), WAKE_EVERY.toMillis(),
                TimeUnit.MILLISECONDS);
        try {
            while (!waiting.isEmpty() || !transfer.inFlight.isEmpty()) {
                while (!waiting.isEmpty() && transfer.inFlight.size() < options.maxInFlight() && transfer.failure == null) {
                    issue(waiting.poll(), transfer);
                }
                if (transfer.failure == null) {
                    for (Chunk chunk : transfer.inFlight.values()) {
                        if (chunk.holder().broken != null) {
                            transfer.fail("reading " + chunk.read() + " failed: the holder went away (" + chunk.holder().broken + ")",
                                    chunk.holder());
                            break;
                        }
                    }
                }
                String stop = stopReason.get();
                if (stop != null) {
                    transfer.fail("reading stopped: " + stop, null);
                }
                if (transfer.failure != null) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    Chunk stuck = transfer.inFlight.values().iterator().next();
                    transfer.fail("reading " + stuck.read() + " did not complete within " + timeout.toMillis() + " ms ("
                            + transfer.inFlight.size() + " reads in flight, " + waiting.size() + " waiting)", stuck.holder());
                    break;
                }
                if (!progress()) {
                    worker.waitForEvents();
                }
            }
        } finally {
            wakeUp.cancel(false);
            if (transfer.failure != null) {
                abandon(transfer);
            }
        }
        if (transfer.failure != null) {
            throw new P2pException(transfer.failure);
        }
    }

    /** What one {@link #read} has in flight and how it failed. */
    private static final class Transfer {
        final Map<UcpRequest, Chunk> inFlight = new IdentityHashMap<>();
        String failure;
        Holder failedHolder;

        void fail(String reason, Holder holder) {
            if (failure == null) {
                failure = reason;
                failedHolder = holder;
            }
        }
    }

    private void issue(Chunk chunk, Transfer transfer) {
        UcpRemoteKey key = remoteKey(chunk.holder(), chunk.read().buffer());
        UcpRequest[] issued = new UcpRequest[1];
        boolean[] finished = new boolean[1];
        UcpRequest request = chunk.holder().endpoint.getNonBlocking(chunk.remoteAddress(), key, chunk.localAddress(), chunk.length(),
                new UcxCallback() {
                    @Override
                    public void onSuccess(UcpRequest done) {
                        finished[0] = true;
                        bytesRead.addAndGet(chunk.length());
                        if (issued[0] != null) {
                            transfer.inFlight.remove(issued[0]);
                        }
                    }

                    @Override
                    public void onError(int status, String message) {
                        finished[0] = true;
                        if (issued[0] != null) {
                            transfer.inFlight.remove(issued[0]);
                        }
                        transfer.fail("reading " + chunk.read() + " failed: " + message + " (UCX status " + status + ")", chunk.holder());
                    }
                });
        issued[0] = request;
        if (!finished[0] && !request.isCompleted()) {
            transfer.inFlight.put(request, chunk);
        }
    }

    /** Progresses the worker; false when there was nothing to do (the caller may then sleep until an event). */
    private boolean progress() {
        try {
            return worker.progress() > 0;
        } catch (Exception e) {
            throw new P2pException("UCX progress failed: " + e.getMessage(), e);
        }
    }

    /** After a failure: cancels what is still in flight and drops the failed holder's endpoint. */
    private void abandon(Transfer transfer) {
        new ArrayList<>(transfer.inFlight.keySet()).forEach(worker::cancelRequest);
        long deadline = System.nanoTime() + CANCEL_WAIT.toNanos();
        while (!transfer.inFlight.isEmpty() && System.nanoTime() < deadline) {
            transfer.inFlight.keySet().removeIf(UcpRequest::isCompleted);
            progress();
        }
        if (transfer.failedHolder != null) {
            forget(transfer.failedHolder);
        }
        LOG.warn("p2p read failed reason={}", transfer.failure);
    }

    private Holder holder(InetSocketAddress address) {
        Holder holder = holders.get(address);
        if (holder != null && holder.broken == null) {
            return holder;
        }
        if (holder != null) {
            forget(holder);
        }
        Holder[] created = new Holder[1];
        UcpEndpoint endpoint = worker.newEndpoint(new UcpEndpointParams().setSocketAddress(address).setPeerErrorHandlingMode()
                .setName("p2p-holder-" + address).setErrorHandler((ep, status, message) -> {
                    if (created[0] != null) {
                        created[0].broken = message + " (UCX status " + status + ")";
                    }
                }));
        created[0] = new Holder(address, endpoint);
        holders.put(address, created[0]);
        LOG.info("p2p holder connecting address={}", address);
        return created[0];
    }

    private UcpRemoteKey remoteKey(Holder holder, BufferDescriptor buffer) {
        return holder.keys.computeIfAbsent(buffer, b -> {
            byte[] packed = b.remoteKey();
            ByteBuffer direct = ByteBuffer.allocateDirect(packed.length);
            direct.put(packed).flip();
            return holder.endpoint.unpackRemoteKey(direct);
        });
    }

    private void forget(Holder holder) {
        holders.remove(holder.address, holder);
        holder.keys.values().forEach(UcpRemoteKey::close);
        holder.keys.clear();
        UcpRequest closing = holder.endpoint.closeNonBlockingForce();
        long deadline = System.nanoTime() + CANCEL_WAIT.toNanos();
        while (closing != null && !closing.isCompleted() && System.nanoTime() < deadline) {
            progress();
        }
    }

    private UcpMemory registration(MemoryRegion staging) {
        return registrations.computeIfAbsent(staging, region -> {
            try {
                return context.memoryMap(new UcpMemMapParams().setAddress(region.address()).setLength(region.size()));
            } catch (RuntimeException e) {
                throw new P2pException("registering the staging region " + region + " with UCX failed: " + e.getMessage(), e);
            }
        });
    }

    /** Deregisters {@code staging} (before the region itself is freed). */
    public synchronized void release(MemoryRegion staging) {
        UcpMemory memory = registrations.remove(staging);
        if (memory != null) {
            memory.deregister();
        }
    }

    /** Bytes this receiver has read from holders, all reads together (for the agent's counters). */
    public long bytesRead() {
        return bytesRead.get();
    }

    /** Staging regions registered now. */
    public synchronized int registeredRegions() {
        return registrations.size();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        new ArrayList<>(holders.values()).forEach(this::forget);
        registrations.values().forEach(UcpMemory::deregister);
        registrations.clear();
        worker.close();
        context.close();
    }

}
