package dev.weightlift.agent.transport.host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's one transfer port: accepts the connections that ranks of host-backend collectives open to
 * their successor and hands each to the collective it names (update id and rank). A connection may arrive
 * before its collective is opened here; it then waits (at most {@code parkTimeout}) and is answered once it
 * is. Closing the server closes the port, every waiting connection and its threads.
 */
public final class TransferServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TransferServer.class);

    private final ServerSocketChannel listener;
    private final InetSocketAddress address;
    private final Duration parkTimeout;
    private final Thread acceptor;
    private final ExecutorService handshakes;
    private final ScheduledExecutorService timers;
    private final Map<String, Expectation> expected = new HashMap<>();
    private final Map<String, Parked> parked = new HashMap<>();
    private volatile boolean closed;

    private record Expectation(int size, int fromRank, CompletableFuture<SocketChannel> link) {
    }

    private record Parked(SocketChannel channel, Wire.Hello hello, ScheduledFuture<?> expiry) {
    }

    private TransferServer(ServerSocketChannel listener, Duration parkTimeout) throws IOException {
        this.listener = listener;
        this.address = (InetSocketAddress) listener.getLocalAddress();
        this.parkTimeout = parkTimeout;
        AtomicInteger threads = new AtomicInteger();
        this.handshakes = Executors.newCachedThreadPool(task -> daemon(task, "transfer-handshake-" + threads.incrementAndGet()));
        this.timers = Executors.newSingleThreadScheduledExecutor(task -> daemon(task, "transfer-timers-" + address.getPort()));
        this.acceptor = daemon(this::acceptLoop, "transfer-accept-" + address.getPort());
        acceptor.start();
    }

    /** Listens on {@code bind} (port 0 picks a free one; {@link #address()} tells which). */
    public static TransferServer start(InetSocketAddress bind, Duration parkTimeout) {
        try {
            ServerSocketChannel listener = ServerSocketChannel.open();
            listener.bind(bind, 64);
            TransferServer server = new TransferServer(listener, parkTimeout);
            LOG.info("transfer server listening address={}", server.address);
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for transfers on " + bind + ": " + e.getMessage(), e);
        }
    }

    public InetSocketAddress address() {
        return address;
    }

    /** The connection {@code fromRank} of update {@code updateId} opens to {@code rank}; completes once it arrived. */
    synchronized CompletableFuture<SocketChannel> expect(String updateId, int rank, int size, int fromRank) {
        if (closed) {
            throw new IllegalStateException("transfer server " + address + " is closed");
        }
        String key = key(updateId, rank);
        if (expected.containsKey(key)) {
            throw new IllegalStateException("update " + updateId + " rank " + rank + " is already open on " + address);
        }
        Expectation expectation = new Expectation(size, fromRank, new CompletableFuture<>());
        expected.put(key, expectation);
        Parked waiting = parked.remove(key);
        if (waiting != null) {
            waiting.expiry().cancel(false);
            handshakes.execute(() -> answer(waiting.channel(), waiting.hello(), expectation));
        }
        return expectation.link();
    }

    /** Stops expecting a connection for {@code rank} of {@code updateId} (the collective closed). */
    synchronized void forget(String updateId, int rank) {
        Expectation expectation = expected.remove(key(updateId, rank));
        if (expectation != null && !expectation.link().isDone()) {
            expectation.link().completeExceptionally(new TransferException("the collective closed before its predecessor connected"));
        }
    }

    ScheduledExecutorService timers() {
        return timers;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel channel = listener.accept();
                channel.socket().setTcpNoDelay(true);
                handshakes.execute(() -> handshake(channel));
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("transfer accept failed address={} error={}", address, e.getMessage());
                }
            }
        }
    }

    private void handshake(SocketChannel channel) {
        ScheduledFuture<?> watchdog = timers.schedule(() -> closeQuietly(channel), parkTimeout.toMillis(), TimeUnit.MILLISECONDS);
        Wire.Hello hello;
        try {
            hello = Wire.Hello.read(channel);
        } catch (IOException e) {
            LOG.warn("transfer handshake failed address={} peer={} error={}", address, remote(channel), e.getMessage());
            closeQuietly(channel);
            return;
        } finally {
            watchdog.cancel(false);
        }
        Expectation expectation;
        synchronized (this) {
            String key = key(hello.updateId(), hello.toRank());
            expectation = expected.get(key);
            if (expectation == null) {
                Parked previous = parked.put(key, new Parked(channel, hello,
                        timers.schedule(() -> expire(key, channel), parkTimeout.toMillis(), TimeUnit.MILLISECONDS)));
                if (previous != null) {
                    previous.expiry().cancel(false);
                    closeQuietly(previous.channel());
                }
                return;
            }
        }
        answer(channel, hello, expectation);
    }

    private void answer(SocketChannel channel, Wire.Hello hello, Expectation expectation) {
        String refusal = null;
        if (hello.size() != expectation.size()) {
            refusal = "rank " + hello.toRank() + " of update " + hello.updateId() + " has " + expectation.size()
                    + " ranks, the connecting rank " + hello.fromRank() + " says " + hello.size();
        } else if (hello.fromRank() != expectation.fromRank()) {
            refusal = "rank " + hello.toRank() + " of update " + hello.updateId() + " takes its connection from rank "
                    + expectation.fromRank() + ", not from rank " + hello.fromRank();
        } else if (expectation.link().isDone()) {
            refusal = "rank " + hello.toRank() + " of update " + hello.updateId() + " is already connected";
        }
        try {
            Wire.writeVerdict(channel, refusal);
        } catch (IOException e) {
            closeQuietly(channel);
            return;
        }
        if (refusal != null) {
            LOG.warn("transfer connection refused address={} reason={}", address, refusal);
            closeQuietly(channel);
        } else if (!expectation.link().complete(channel)) {
            closeQuietly(channel);
        }
    }

    private synchronized void expire(String key, SocketChannel channel) {
        Parked waiting = parked.get(key);
        if (waiting != null && waiting.channel() == channel) {
            parked.remove(key);
            LOG.warn("transfer connection dropped key={} reason=no collective opened within {}", key, parkTimeout);
            closeQuietly(channel);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            parked.values().forEach(waiting -> closeQuietly(waiting.channel()));
            parked.clear();
            expected.values().forEach(e -> e.link().completeExceptionally(new TransferException("transfer server closed")));
            expected.clear();
        }
        closeQuietly(listener);
        handshakes.shutdownNow();
        timers.shutdownNow();
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String key(String updateId, int rank) {
        return updateId + "#" + rank;
    }

    static void closeQuietly(java.nio.channels.Channel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing a transfer channel failed: {}", e.getMessage());
        }
    }

    private static String remote(SocketChannel channel) {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static Thread daemon(Runnable task, String name) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }
}
