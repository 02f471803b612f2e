package dev.weightlift.agent.engine.nativeprotocol;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.URI;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's listening socket for engine workers (one per agent). Workers connect and name their update
 * and GPU in {@code hello}; the server hands the connection to the {@link NativeWorkerChannel} that
 * {@link #expect} registered for that pair, and turns everyone else away with an {@code error}.
 */
public final class EngineChannelServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EngineChannelServer.class);
    private static final int MAX_PENDING_HANDSHAKES = 64;

    private final ChannelServerConfig config;
    private final FrameCodec codec;
    private final ServerSocketChannel server;
    private final Path socketFile;
    private final String endpoint;
    private final Map<String, NativeWorkerChannel> expected = new ConcurrentHashMap<>();
    private final ExecutorService handshakes = Executors.newCachedThreadPool(daemon("weightlift-engine-hello"));
    private final Semaphore handshakeSlots = new Semaphore(MAX_PENDING_HANDSHAKES);
    private final Thread acceptor;
    private volatile boolean closed;

    private EngineChannelServer(ChannelServerConfig config) throws IOException {
        this.config = config;
        this.codec = new FrameCodec(config.maxFrameBytes());
        URI uri = URI.create(config.endpoint());
        if ("unix".equals(uri.getScheme())) {
            socketFile = Path.of(uri.getPath());
            server = bindUnix(socketFile, config);
            endpoint = "unix://" + socketFile;
        } else {
            socketFile = null;
            server = ServerSocketChannel.open(StandardProtocolFamily.INET);
            server.bind(new InetSocketAddress(uri.getHost(), uri.getPort()));
            int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
            endpoint = "tcp://" + uri.getHost() + ":" + port;
        }
        acceptor = new Thread(this::acceptLoop, "weightlift-engine-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        LOG.info("engine channel listening endpoint={}", endpoint);
    }

    public static EngineChannelServer start(ChannelServerConfig config) throws IOException {
        return new EngineChannelServer(config);
    }

    /** The URI engine workers connect to (what the trigger hands them). */
    public String endpoint() {
        return endpoint;
    }

    /**
     * Registers the worker of {@code gpuUuid} for {@code update}; the channel becomes connected when that
     * worker says hello. Close the channel to unregister.
     */
    public NativeWorkerChannel expect(String update, String gpuUuid, ChannelTimeouts timeouts) {
        if (closed) {
            throw new IllegalStateException("engine channel server " + endpoint + " is closed");
        }
        String key = key(update, gpuUuid);
        NativeWorkerChannel channel = new NativeWorkerChannel(update, gpuUuid, timeouts, () -> expected.remove(key));
        if (expected.putIfAbsent(key, channel) != null) {
            throw new IllegalStateException("update " + update + " already expects a worker on GPU " + gpuUuid);
        }
        return channel;
    }

    private static ServerSocketChannel bindUnix(Path socketFile, ChannelServerConfig config) throws IOException {
        Files.createDirectories(socketFile.getParent());
        // Bound under a temporary name, given its mode and group, then renamed into place: no moment in
        // which the final path accepts connections with the default permissions.
        Path temporary = socketFile.resolveSibling("." + socketFile.getFileName() + "." + ProcessHandle.current().pid());
        Files.deleteIfExists(temporary);
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.bind(UnixDomainSocketAddress.of(temporary));
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString(
                    ChannelServerConfig.permissions(config.socketMode())));
            if (config.socketGroup() != null) {
                GroupPrincipal group = temporary.getFileSystem().getUserPrincipalLookupService()
                        .lookupPrincipalByGroupName(config.socketGroup());
                Files.getFileAttributeView(temporary, PosixFileAttributeView.class).setGroup(group);
            }
            Files.move(temporary, socketFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            channel.close();
            Files.deleteIfExists(temporary);
            throw new IOException("cannot listen on " + socketFile + ": " + e.getMessage(), e);
        }
        return channel;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel connection;
            try {
                connection = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.error("engine channel accept failed endpoint={}: {}", endpoint, e.toString());
                }
                return;
            }
            if (!handshakeSlots.tryAcquire()) {
                LOG.warn("engine channel refused a connection: {} handshakes already pending", MAX_PENDING_HANDSHAKES);
                closeQuietly(connection);
                continue;
            }
            try {
                handshakes.execute(() -> {
                    try {
                        handshake(connection);
                    } finally {
                        handshakeSlots.release();
                    }
                });
            } catch (RejectedExecutionException e) {
                handshakeSlots.release();
                closeQuietly(connection);
            }
        }
    }

    private void handshake(SocketChannel socket) {
        FrameConnection connection;
        try {
            connection = new FrameConnection(socket, codec, peerName(socket));
        } catch (IOException e) {
            closeQuietly(socket);
            return;
        }
        Instant deadline = Instant.now().plus(config.helloTimeout());
        Messages.Hello hello;
        try {
            hello = Messages.parseHello(connection.read(deadline));
        } catch (IOException e) {
            reject(connection, deadline, "bad hello: " + e.getMessage());
            return;
        }
        if (hello.protocol() != Messages.PROTOCOL_VERSION) {
            reject(connection, deadline, "protocol version " + hello.protocol() + " not supported (agent speaks "
                    + Messages.PROTOCOL_VERSION + ")");
            return;
        }
        NativeWorkerChannel channel = expected.get(key(hello.update(), hello.gpuUuid()));
        if (channel == null) {
            reject(connection, deadline, "no update '" + hello.update() + "' expects a worker on GPU " + hello.gpuUuid()
                    + " at this agent");
            return;
        }
        if (!channel.claim()) {
            reject(connection, deadline, "a worker for GPU " + hello.gpuUuid() + " is already connected to update "
                    + hello.update());
            return;
        }
        try {
            connection.write(Messages.welcome(hello.update()), deadline);
        } catch (IOException e) {
            LOG.warn("engine worker went away during hello gpu={} pid={}: {}", hello.gpuUuid(), hello.pid(), e.toString());
            channel.unclaim();
            connection.close();
            return;
        }
        channel.attach(connection, hello);
        LOG.info("engine worker connected update={} gpu={} pid={} engine={}", hello.update(), hello.gpuUuid(),
                hello.pid(), hello.engine());
    }

    private void reject(FrameConnection connection, Instant deadline, String reason) {
        LOG.warn("engine worker rejected peer={}: {}", connection.peer(), reason);
        try {
            connection.write(Messages.error(reason), deadline);
        } catch (IOException ignored) {
            // the peer may already be gone; it is turned away either way
        }
        connection.close();
    }

    private static String key(String update, String gpuUuid) {
        return update + "\n" + gpuUuid;
    }

    private static String peerName(SocketChannel socket) {
        try {
            Object address = socket.getRemoteAddress();
            return address == null || address.toString().isEmpty() ? "engine worker" : address.toString();
        } catch (IOException e) {
            return "engine worker";
        }
    }

    private static void closeQuietly(SocketChannel socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // the socket is being discarded
        }
        handshakes.shutdownNow();
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(5));
            if (socketFile != null) {
                Files.deleteIfExists(socketFile);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            LOG.warn("cannot remove socket file {}: {}", socketFile, e.toString());
        }
        expected.values().forEach(NativeWorkerChannel::close);
        LOG.info("engine channel closed endpoint={}", endpoint);
    }
}
