package dev.weightlift.agent.transport.host;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.NativeMemory;
import dev.weightlift.agent.device.host.HostCopyStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host backend's {@link Collective}: the ranks of one update form a ring of TCP connections (rank k
 * connects to rank k+1 through that agent's {@link TransferServer}), and a broadcast from {@code root}
 * runs down the chain root → root+1 → … with every rank forwarding what it has received while it is
 * still receiving, so a broadcast costs about one copy of the bytes whatever the number of ranks (as
 * NCCL's ring does). Bytes go straight from and into the region (no intermediate buffers beyond the
 * sockets'). A failing rank sends the reason backwards around the ring, so every rank fails at once
 * with the same message, which names the peer that went away or the wait that missed its deadline.
 *
 * <p>Opening returns at once; the connections are made in the background and the first broadcast waits
 * for them (so the ranks of one agent can be opened from one thread in any order). Broadcasts run as
 * tasks of the given {@link HostCopyStream}, after the copies enqueued before them.
 */
public final class TcpCollective implements Collective {

    private static final Logger LOG = LoggerFactory.getLogger(TcpCollective.class);
    private static final Duration RING_NEWS = Duration.ofSeconds(1);

    private final TransferServer server;
    private final String updateId;
    private final int rank;
    private final int size;
    private final List<InetSocketAddress> peers;
    private final TransferOptions options;
    private final int successor;
    private final int predecessor;
    private final CompletableFuture<SocketChannel> fromPredecessor;
    private final CompletableFuture<SocketChannel> toSuccessor = new CompletableFuture<>();
    private final BlockingQueue<BroadcastSend> sends = new LinkedBlockingQueue<>();
    private final Object progress = new Object();
    private final Object runLock = new Object();
    private final Object reverseWrite = new Object();
    private final AtomicLong nextSequence = new AtomicLong();
    private final AtomicLong bytesReceived = new AtomicLong();
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread sender;
    private volatile Thread monitor;
    private volatile String failure;
    private volatile String waitingFor = "starting";
    private volatile boolean successorLeft;

    /** Markers in the send queue: say goodbye to the successor, or stop without a word. */
    private static final BroadcastSend GOODBYE = new BroadcastSend(0, 0, -1, -1);
    private static final BroadcastSend STOP = new BroadcastSend(0, 0, -1, -1);

    private TcpCollective(TransferServer server, String updateId, int rank, List<InetSocketAddress> peers,
            TransferOptions options) {
        this.server = server;
        this.updateId = updateId;
        this.rank = rank;
        this.size = peers.size();
        this.peers = List.copyOf(peers);
        this.options = options;
        this.successor = (rank + 1) % size;
        this.predecessor = (rank + size - 1) % size;
        this.fromPredecessor = size > 1 ? server.expect(updateId, rank, size, predecessor) : null;
        this.sender = new Thread(this::sendLoop, "transfer-send-" + updateId + "-r" + rank);
        this.sender.setDaemon(true);
        if (size > 1) {
            sender.start();
        }
    }

    /**
     * Opens rank {@code rank} of update {@code updateId}, whose ranks listen on {@code peers} (indexed by rank;
     * this rank's own entry is {@code server}'s address as the others reach it). Returns at once.
     */
    public static TcpCollective open(TransferServer server, String updateId, int rank, List<InetSocketAddress> peers,
            TransferOptions options) {
        if (updateId == null || updateId.isBlank()) {
            throw new IllegalArgumentException("a host collective needs an update id");
        }
        if (peers.isEmpty() || rank < 0 || rank >= peers.size()) {
            throw new IllegalArgumentException("rank " + rank + " outside a collective of " + peers.size() + " ranks");
        }
        LOG.info("host collective open update={} rank={} size={}", updateId, rank, peers.size());
        return new TcpCollective(server, updateId, rank, peers, options);
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void broadcast(MemoryRegion region, long offset, long length, int root, CopyStream stream) {
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("root " + root + " outside a collective of " + size + " ranks");
        }
        if (offset < 0 || length < 0 || offset > region.size() - length) {
            throw new IndexOutOfBoundsException("range [" + offset + ", +" + length + ") is outside " + region + " of "
                    + region.size() + " bytes");
        }
        if (!(stream instanceof HostCopyStream hostStream)) {
            throw new IllegalArgumentException("the host collective runs on host backend streams, not on " + stream);
        }
        if (closed.get()) {
            throw new IllegalStateException(this + " is closed");
        }
        if (size == 1 || length == 0) {
            return;
        }
        long sequence = nextSequence.getAndIncrement();
        long address = region.address() + offset;
        hostStream.enqueue(() -> run(new BroadcastSend(address, length, root, sequence)));
    }

    private void run(BroadcastSend op) {
        synchronized (runLock) {
            throwIfFailed();
            Duration timeout = options.timeout();
            ScheduledFuture<?> watchdog = server.timers().schedule(() -> abort("broadcast #" + op.sequence + " of " + op.length
                    + " bytes from rank " + op.root + " did not complete within " + timeout.toMillis() + " ms (" + waitingFor + ")"),
                    timeout.toMillis(), TimeUnit.MILLISECONDS);
            try {
                boolean forwards = successor != op.root;
                if (rank == op.root) {
                    waitingFor = "connecting to " + peer(successor);
                    await(toSuccessor);
                    synchronized (progress) {
                        op.available = op.length;
                    }
                    sends.add(op);
                } else {
                    receive(op, forwards);
                }
                if (forwards) {
                    waitingFor = "waiting for " + peer(successor) + " to take the bytes";
                    synchronized (progress) {
                        while (!op.done && failure == null) {
                            progress.wait();
                        }
                    }
                }
            } catch (BrokenProtocol e) {
                abort(describe(e));
            } catch (IOException e) {
                abortUnlessTold(describe(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abort("interrupted while " + waitingFor);
            } finally {
                watchdog.cancel(false);
            }
            throwIfFailed();
        }
    }

    private void receive(BroadcastSend op, boolean forwards) throws IOException, InterruptedException {
        waitingFor = "waiting for " + peer(predecessor) + " to connect";
        SocketChannel in = await(fromPredecessor);
        if (forwards) {
            waitingFor = "connecting to " + peer(successor);
            await(toSuccessor);
        }
        waitingFor = "waiting for " + peer(predecessor) + " to start broadcast #" + op.sequence;
        Wire.Header start = readFrom(in);
        if (start.type() != Wire.BCAST || start.a() != op.root || start.b() != op.sequence || start.c() != op.length) {
            throw new BrokenProtocol(peer(predecessor) + " sent " + Wire.describe(start) + " where broadcast #" + op.sequence + " of "
                    + op.length + " bytes from rank " + op.root + " was expected (the ranks disagree on the broadcasts)");
        }
        if (forwards) {
            sends.add(op);
        }
        waitingFor = "waiting for bytes from " + peer(predecessor);
        long received = 0;
        while (received < op.length) {
            Wire.Header data = readFrom(in);
            if (data.type() != Wire.DATA || data.a() <= 0 || data.a() > op.length - received) {
                throw new BrokenProtocol(peer(predecessor) + " sent " + Wire.describe(data) + " in broadcast #" + op.sequence + " after "
                        + received + " of " + op.length + " bytes");
            }
            ByteBuffer target = NativeMemory.view(op.address + received, data.a());
            while (target.hasRemaining()) {
                if (in.read(target) < 0) {
                    throw new EOFException(peer(predecessor) + " closed the connection");
                }
                if (forwards) {
                    synchronized (progress) {
                        op.available = received + target.position();
                        progress.notifyAll();
                    }
                }
            }
            received += data.a();
            bytesReceived.addAndGet(data.a());
        }
    }

    private Wire.Header readFrom(SocketChannel in) throws IOException {
        Wire.Header header;
        try {
            header = Wire.readHeader(in);
        } catch (EOFException e) {
            throw new EOFException(peer(predecessor) + " closed the connection");
        }
        if (header.type() == Wire.BYE) {
            throw new IOException(peer(predecessor) + " left the collective (closed it) while this rank still expected a broadcast");
        }
        return header;
    }

    private void sendLoop() {
        try {
            SocketChannel out = connect();
            while (true) {
                BroadcastSend op = sends.take();
                if (op == STOP) {
                    return;
                }
                if (op == GOODBYE) {
                    Wire.writeFully(out, Wire.header(Wire.BYE, 0, 0, 0));
                    return;
                }
                send(out, op);
            }
        } catch (IOException e) {
            if (!closed.get()) {
                abort("sending to " + peer(successor) + " failed: " + e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void send(SocketChannel out, BroadcastSend op) throws IOException, InterruptedException {
        Wire.writeFully(out, Wire.header(Wire.BCAST, op.root, op.sequence, op.length));
        long sent = 0;
        while (sent < op.length) {
            long available;
            synchronized (progress) {
                while (op.available == sent && failure == null) {
                    progress.wait();
                }
                if (failure != null) {
                    return;
                }
                available = op.available;
            }
            int chunk = (int) Math.min(options.chunkBytes(), available - sent);
            ByteBuffer[] frame = {Wire.header(Wire.DATA, chunk, 0, 0), NativeMemory.view(op.address + sent, chunk)};
            while (frame[1].hasRemaining()) {
                out.write(frame);
            }
            sent += chunk;
            bytesSent.addAndGet(chunk);
        }
        synchronized (progress) {
            op.done = true;
            progress.notifyAll();
        }
    }

    private SocketChannel connect() throws IOException, InterruptedException {
        SocketChannel channel;
        try {
            channel = RingConnector.connect(peers.get(successor), new Wire.Hello(updateId, rank, successor, size),
                    System.nanoTime() + options.timeout().toNanos(), server.timers(), () -> failure != null || closed.get());
        } catch (IOException e) {
            if (failure == null && !closed.get()) {
                abort("could not connect to " + peer(successor) + " within " + options.timeout().toMillis() + " ms: "
                        + e.getMessage());
            }
            throw e;
        }
        if (!toSuccessor.complete(channel)) {
            TransferServer.closeQuietly(channel);
            throw new IOException("the collective closed while connecting");
        }
        startMonitor(channel);
        return channel;
    }

    /** Reads what the successor sends backwards: an abort to pass on, or its goodbye. */
    private void startMonitor(SocketChannel out) {
        Thread thread = new Thread(() -> {
            try {
                while (true) {
                    Wire.Header header = Wire.readHeader(out);
                    if (header.type() == Wire.ABORT) {
                        abort(Wire.readText(out, header.a()));
                        return;
                    }
                    if (header.type() == Wire.BYE) {
                        successorLeft = true;
                    } else {
                        abort(peer(successor) + " sent " + Wire.describe(header) + " backwards");
                        return;
                    }
                }
            } catch (IOException e) {
                if (!closed.get() && !successorLeft) {
                    abort(peer(successor) + " closed the connection");
                }
            }
        }, "transfer-monitor-" + updateId + "-r" + rank);
        thread.setDaemon(true);
        monitor = thread;
        thread.start();
    }

    /**
     * A neighbour that fails shuts its connections, and its EOF can overtake its reason, which travels around
     * the ring the other way: give that reason a moment to arrive before failing with the plain EOF.
     */
    private void abortUnlessTold(String reason) {
        long deadline = System.nanoTime() + Math.min(RING_NEWS.toNanos(), options.timeout().toNanos());
        synchronized (progress) {
            try {
                long left;
                while (failure == null && (left = deadline - System.nanoTime()) > 0) {
                    TimeUnit.NANOSECONDS.timedWait(progress, left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        abort(reason);
    }

    /** Fails this rank with {@code reason} (the first reason wins) and passes it backwards around the ring. */
    private void abort(String reason) {
        synchronized (progress) {
            if (failure != null) {
                return;
            }
            failure = reason;
            progress.notifyAll();
        }
        if (!closed.get()) {
            LOG.warn("host collective failed update={} rank={} size={} reason={}", updateId, rank, size, reason);
        }
        sends.add(STOP);
        TransferException error = new TransferException(reason);
        toSuccessor.completeExceptionally(error);
        if (fromPredecessor != null) {
            fromPredecessor.completeExceptionally(error);
            SocketChannel in = connected(fromPredecessor);
            if (in != null) {
                synchronized (reverseWrite) {
                    try {
                        Wire.writeText(in, Wire.ABORT, reason);
                    } catch (IOException e) {
                        LOG.debug("could not pass the abort to {}: {}", peer(predecessor), e.getMessage());
                    }
                }
                shutdown(in, true);
            }
        }
        SocketChannel out = connected(toSuccessor);
        if (out != null) {
            shutdown(out, false);
        }
    }

    private static void shutdown(SocketChannel channel, boolean input) {
        try {
            if (input) {
                channel.shutdownInput();
            } else {
                channel.shutdownOutput();
            }
        } catch (IOException e) {
            LOG.debug("shutdown of a transfer channel failed: {}", e.getMessage());
        }
    }

    private SocketChannel await(CompletableFuture<SocketChannel> link) throws IOException, InterruptedException {
        try {
            return link.get(options.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("no connection within " + options.timeout().toMillis() + " ms (" + waitingFor + ")");
        }
    }

    /** The predecessor sent something this rank did not expect: its own failure, no need to wait for news. */
    private static final class BrokenProtocol extends IOException {
        BrokenProtocol(String message) {
            super(message);
        }
    }

    private static SocketChannel connected(CompletableFuture<SocketChannel> link) {
        return link.isDone() && !link.isCompletedExceptionally() ? link.join() : null;
    }

    private void throwIfFailed() {
        String reason = failure;
        if (reason != null) {
            throw new TransferException("host broadcast of update " + updateId + " failed on rank " + rank + " of " + size + ": "
                    + reason);
        }
    }

    private String describe(IOException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return waitingFor + ": " + message;
    }

    private String peer(int r) {
        InetSocketAddress address = peers.get(r);
        return "rank " + r + " (" + address.getHostString() + ":" + address.getPort() + ")";
    }

    /** Payload bytes this rank has received from its predecessor (for the agent's counters). */
    public long bytesReceived() {
        return bytesReceived.get();
    }

    /** Payload bytes this rank has sent to its successor, its own and forwarded ones. */
    public long bytesSent() {
        return bytesSent.get();
    }

    /** Waits at most {@code timeout} for this collective to fail; its reason, or null when it is still healthy. */
    String awaitFailure(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (progress) {
            long left;
            while (failure == null && (left = deadline - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.timedWait(progress, left);
            }
            return failure;
        }
    }

    /** Failure reason, or null while healthy. */
    public String failure() {
        return failure;
    }

    /**
     * Says goodbye to both neighbours (unless failed), then closes the sockets and stops the threads. Call
     * it after the stream has drained the last broadcast.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (size == 1) {
            return;
        }
        server.forget(updateId, rank);
        boolean healthy = failure == null;
        sends.add(healthy ? GOODBYE : STOP);
        SocketChannel in = connected(fromPredecessor);
        if (healthy && in != null) {
            synchronized (reverseWrite) {
                try {
                    Wire.writeFully(in, Wire.header(Wire.BYE, 0, 0, 0));
                } catch (IOException e) {
                    LOG.debug("goodbye to {} failed: {}", peer(predecessor), e.getMessage());
                }
            }
        }
        join(sender, healthy && toSuccessor.isDone() ? options.closeTimeout() : Duration.ZERO);
        toSuccessor.completeExceptionally(new TransferException("closed"));
        fromPredecessor.completeExceptionally(new TransferException("closed"));
        TransferServer.closeQuietly(connected(toSuccessor));
        TransferServer.closeQuietly(connected(fromPredecessor));
        sender.interrupt();
        join(sender, options.closeTimeout());
        Thread watcher = monitor;
        if (watcher != null) {
            join(watcher, options.closeTimeout());
        }
        LOG.info("host collective closed update={} rank={} failure={}", updateId, rank, failure);
    }

    private static void join(Thread thread, Duration timeout) {
        try {
            thread.join(Math.max(1, timeout.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Threads of this collective still running (none once closed). */
    int liveThreads() {
        Thread watcher = monitor;
        return (sender.isAlive() ? 1 : 0) + (watcher != null && watcher.isAlive() ? 1 : 0);
    }

    @Override
    public String toString() {
        return "host collective " + updateId + " rank " + rank + "/" + size;
    }
}
