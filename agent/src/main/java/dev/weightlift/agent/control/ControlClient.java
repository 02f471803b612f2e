package dev.weightlift.agent.control;

import dev.weightlift.protocol.CommandQueue;
import dev.weightlift.protocol.Envelope;
import dev.weightlift.protocol.Goodbye;
import dev.weightlift.protocol.Heartbeat;
import dev.weightlift.protocol.Message;
import dev.weightlift.protocol.MessageCodec;
import dev.weightlift.protocol.NotRegistered;
import dev.weightlift.protocol.ProtocolException;
import dev.weightlift.protocol.Register;
import dev.weightlift.protocol.Registered;
import dev.weightlift.protocol.Request;
import dev.weightlift.protocol.Response;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * The agent's end of the control plane: a CURVE DEALER (identity = node name) that registers with the hub,
 * heartbeats, runs the hub's requests through the handlers registered by type, and sends back responses
 * and progress. When the hub is silent for the configured timeout (it restarted, the link dropped, the
 * registration was refused) it drops the connection and reconnects with exponential backoff, registering
 * again. One I/O thread owns the socket; handlers run on their own threads.
 */
public final class ControlClient implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ControlClient.class);
    private static final long MAX_WAIT_MS = 50;
    private static final Duration GOODBYE_LINGER = Duration.ofMillis(500);
    private static final long PROGRESS_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /**
     * Generous queues: JeroMQ 0.6.0 corrupts CURVE traffic when a pipe reaches its high-water mark (it hands
     * the encrypted MESSAGE command up and drops messages), so the queues must never fill.
     */
    static final int HIGH_WATER_MARK = 100_000;
    /** A stalled CURVE handshake (JeroMQ 0.6.0 leaves some stalled behind a ZAP handler) is retried after this. */
    private static final int HANDSHAKE_TIMEOUT_MS = 1000;

    private enum State { DISCONNECTED, REGISTERING, REGISTERED }

    private final ClientConfig config;
    private final AgentReport report;
    private final MessageCodec codec;
    private final ZContext context = new ZContext(1);
    private final CommandQueue commands;
    private final ClientMetrics metrics;
    private final RequestDispatcher dispatcher;
    private final Thread thread;
    private final Object registeredSignal = new Object();
    private final AtomicInteger registrations = new AtomicInteger();
    private final Map<String, Envelope> latestProgress = new ConcurrentHashMap<>();
    private volatile boolean running = true;
    private volatile State state = State.DISCONNECTED;

    // I/O thread only
    private ZMQ.Socket socket;
    private ZMQ.Poller poller;
    private long lastHeardNanos;
    private long lastSentHeartbeatNanos;
    private long lastRegisterNanos;
    private long lastProgressNanos;
    private long heartbeatNanos;
    private long reconnectAtNanos;
    private long backoffNanos;

    public ControlClient(ClientConfig config, AgentReport report, MeterRegistry meters) throws IOException {
        this.config = config;
        this.report = report;
        this.codec = new MessageCodec(config.maxMessageBytes());
        this.commands = new CommandQueue();
        this.metrics = new ClientMetrics(meters, () -> state == State.REGISTERED ? 1 : 0);
        this.dispatcher = new RequestDispatcher(config.node(), new RequestDispatcher.Outbox() {
            @Override
            public void progress(Envelope progress) {
                latestProgress.put(progress.id(), progress);
            }

            @Override
            public void respond(Envelope response) {
                commands.submit(() -> {
                    Envelope progress = latestProgress.remove(response.id());
                    if (progress != null) {
                        send(progress);
                    }
                    send(response);
                });
            }
        }, metrics);
        this.backoffNanos = config.backoffMin().toNanos();
        this.thread = new Thread(this::run, "weightlift-control-io");
        thread.setDaemon(true);
    }

    /** Registers the handler of one request type; requests without a handler are answered with a Failure. */
    public <R extends Response, Q extends Request<R>> ControlClient handle(Class<Q> type, RequestHandler<Q, R> handler) {
        dispatcher.register(type, handler);
        return this;
    }

    /** Connects and keeps connecting until closed. */
    public void start() {
        thread.start();
    }

    public boolean isRegistered() {
        return state == State.REGISTERED;
    }

    /** How many times the hub accepted this agent's registration (a re-registration counts again). */
    public int registrations() {
        return registrations.get();
    }

    /** Waits until registered (at least {@code atLeast} registrations in all); false at the deadline. */
    public boolean awaitRegistrations(int atLeast, Duration deadline) throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        synchronized (registeredSignal) {
            while (!(isRegistered() && registrations.get() >= atLeast)) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(registeredSignal, left);
            }
            return true;
        }
    }

    /** Says goodbye to the hub (so it fails this agent's pending work at once) and stops. */
    @Override
    public void close() {
        if (!running) {
            return;
        }
        commands.submit(() -> {
            if (socket != null && state == State.REGISTERED) {
                send(new Envelope("bye", new Goodbye("agent on node " + config.node() + " is shutting down")));
                socket.setLinger((int) GOODBYE_LINGER.toMillis());
            }
            running = false;
        });
        try {
            thread.join(GOODBYE_LINGER.toMillis() + TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        running = false;
        dispatcher.close();
        commands.close();
        metrics.close();
        context.close();
    }

    private void run() {
        long startNanos = System.nanoTime();
        reconnectAtNanos = startNanos;
        lastProgressNanos = startNanos;
        try {
            while (running) {
                try {
                    pass();
                } catch (RuntimeException e) {
                    LOG.error("control client pass failed; reconnecting node={} backoffMs={}", config.node(),
                            backoffNanos / 1_000_000, e);
                    metrics.reconnect("error");
                    scheduleReconnect(System.nanoTime());
                }
            }
        } finally {
            if (socket != null) {
                socket.close();
                socket = null;
            }
            if (poller != null) {
                poller.close();
            }
            state = State.DISCONNECTED;
        }
    }

    private void pass() {
        long now = System.nanoTime();
        if (socket == null && now - reconnectAtNanos >= 0) {
            connect();
        }
        long waitMs = MAX_WAIT_MS;
        if (socket == null) {
            waitMs = Math.max(1, Math.min(MAX_WAIT_MS, (reconnectAtNanos - now) / 1_000_000));
        }
        pollOnce(waitMs);
        if (socket != null) {
            keepAlive(System.nanoTime());
            flushProgress(System.nanoTime());
        }
    }

    /** Drops the connection and reconnects after the current backoff (with jitter), doubling the next one. */
    private void scheduleReconnect(long now) {
        disconnect();
        long jitter = ThreadLocalRandom.current().nextLong(backoffNanos / 4 + 1);
        reconnectAtNanos = now + backoffNanos + jitter;
        backoffNanos = Math.min(backoffNanos * 2, config.backoffMax().toNanos());
    }

    private void pollOnce(long waitMs) {
        if (poller == null) {
            rebuildPoller();
        }
        poller.poll(waitMs);
        commands.runAll();
        if (socket != null) {
            receiveAll();
        }
    }

    private void connect() {
        socket = context.createSocket(SocketType.DEALER);
        socket.setLinger(0);
        socket.setIdentity(config.node().getBytes(StandardCharsets.UTF_8));
        socket.setMaxMsgSize(config.maxMessageBytes() + 1024L);
        socket.setReconnectIVL((int) config.backoffMin().toMillis());
        socket.setReconnectIVLMax((int) config.backoffMax().toMillis());
        socket.setHandshakeIvl(HANDSHAKE_TIMEOUT_MS);
        socket.setSndHWM(HIGH_WATER_MARK);
        socket.setRcvHWM(HIGH_WATER_MARK);
        socket.setCurveServerKey(config.keys().serverPublic());
        socket.setCurvePublicKey(config.keys().agentPublic());
        socket.setCurveSecretKey(config.keys().agentSecret());
        socket.connect(config.hubEndpoint());
        rebuildPoller();
        register();
        lastHeardNanos = System.nanoTime();
        LOG.info("connecting to the hub node={} endpoint={}", config.node(), config.hubEndpoint());
    }

    private void register() {
        Register registration = report.registration();
        if (!registration.node().equals(config.node())) {
            throw new IllegalStateException("registration names node " + registration.node() + " but the client is "
                    + config.node());
        }
        if (state != State.REGISTERING) {
            state = State.REGISTERING;
            lastHeardNanos = System.nanoTime();
        }
        lastRegisterNanos = System.nanoTime();
        send(new Envelope("reg-" + (registrations.get() + 1), registration));
    }

    private void keepAlive(long now) {
        long silentNanos = now - lastHeardNanos;
        if (silentNanos > config.hubTimeout().toNanos()) {
            String why = state == State.REGISTERED ? "hub-silent" : "no-registration-answer";
            metrics.reconnect(why);
            LOG.warn("reconnecting to the hub node={} reason={} silentMs={} backoffMs={}", config.node(), why,
                    silentNanos / 1_000_000, backoffNanos / 1_000_000);
            scheduleReconnect(now);
            return;
        }
        if (state == State.REGISTERING && now - lastRegisterNanos >= config.hubTimeout().toNanos() / 4) {
            register();
        } else if (state == State.REGISTERED && now - lastSentHeartbeatNanos >= heartbeatNanos) {
            send(new Envelope("hb", new Heartbeat(report.state())));
            lastSentHeartbeatNanos = now;
        }
    }

    private void flushProgress(long now) {
        if (now - lastProgressNanos < PROGRESS_INTERVAL_NANOS || latestProgress.isEmpty()) {
            return;
        }
        lastProgressNanos = now;
        for (String id : List.copyOf(latestProgress.keySet())) {
            Envelope progress = latestProgress.remove(id);
            if (progress != null) {
                send(progress);
            }
        }
    }

    private void disconnect() {
        state = State.DISCONNECTED;
        if (socket != null) {
            socket.close();
            socket = null;
        }
        rebuildPoller();
    }

    /**
     * The command wake-up and the socket, while there is one. Every pass reads both whatever the poller says
     * (a ZeroMQ socket's readiness is edge-triggered; a missed edge costs one pass).
     */
    private void rebuildPoller() {
        if (poller != null) {
            poller.close();
        }
        poller = context.createPoller(2);
        poller.register(commands.wakeChannel(), ZMQ.Poller.POLLIN);
        if (socket != null) {
            poller.register(socket, ZMQ.Poller.POLLIN);
        }
    }

    private void receiveAll() {
        for (byte[] frame; socket != null && (frame = socket.recv(ZMQ.DONTWAIT)) != null; ) {
            if (socket.hasReceiveMore()) {
                while (socket.hasReceiveMore()) {
                    socket.recv(ZMQ.DONTWAIT);
                }
                metrics.rejected("malformed");
                LOG.warn("rejected message from the hub node={} error=multi-frame message", config.node());
                continue;
            }
            onFrame(frame);
        }
    }

    private void onFrame(byte[] frame) {
        Envelope envelope;
        try {
            envelope = codec.decode(frame);
        } catch (ProtocolException e) {
            metrics.rejected("malformed");
            LOG.warn("rejected message from the hub node={} error={}", config.node(), e.getMessage());
            return;
        }
        metrics.messageIn(envelope.type());
        lastHeardNanos = System.nanoTime();
        Message message = envelope.message();
        if (message instanceof Registered registered) {
            onRegistered(registered);
        } else if (message instanceof NotRegistered notRegistered) {
            LOG.info("hub asks to register again node={} reason={}", config.node(), notRegistered.reason());
            register();
        } else if (message instanceof Request<?> request) {
            dispatcher.dispatch(envelope.id(), request);
        } else if (!(message instanceof Heartbeat)) {
            metrics.rejected("unexpected");
            LOG.warn("rejected message from the hub node={} type={} error=the hub does not send this type",
                    config.node(), envelope.type());
        }
    }

    private void onRegistered(Registered registered) {
        if (state == State.REGISTERED) {
            return;
        }
        heartbeatNanos = TimeUnit.MILLISECONDS.toNanos(registered.heartbeatMillis());
        backoffNanos = config.backoffMin().toNanos();
        lastSentHeartbeatNanos = System.nanoTime();
        synchronized (registeredSignal) {
            state = State.REGISTERED;
            registrations.incrementAndGet();
            registeredSignal.notifyAll();
        }
        LOG.info("registered with the hub node={} hub={} heartbeatMs={}", config.node(), registered.hub(),
                registered.heartbeatMillis());
    }

    /** On the I/O thread: sends without blocking; a message that cannot be queued is dropped and logged. */
    private void send(Envelope envelope) {
        if (socket == null) {
            LOG.warn("dropped message node={} type={} id={} reason=not connected", config.node(), envelope.type(),
                    envelope.id());
            return;
        }
        byte[] frame;
        try {
            frame = codec.encode(envelope);
        } catch (IllegalArgumentException e) {
            LOG.warn("dropped message node={} type={} id={} reason={}", config.node(), envelope.type(), envelope.id(),
                    e.getMessage());
            return;
        }
        boolean sent;
        try {
            sent = socket.send(frame, ZMQ.DONTWAIT);
        } catch (ZMQException e) {
            sent = false;
        }
        if (sent) {
            metrics.messageOut(envelope.type());
        } else {
            LOG.warn("dropped message node={} type={} id={} reason=no connection to queue on", config.node(),
                    envelope.type(), envelope.id());
        }
    }
}
