package dev.weightlift.operator.hub;

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
import dev.weightlift.protocol.UpdateProgress;
import dev.weightlift.protocol.UpdateResult;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * The operator's end of the control plane: a CURVE-secured ROUTER that agents (DEALERs, identity = node name)
 * register with. One I/O thread owns every socket; callers hand it work through a queue. Futures and
 * listeners are completed on a separate events thread, in the order messages arrived, never on the I/O thread.
 * An agent silent for the configured timeout is gone and its pending requests fail at once, naming the node.
 */
public final class AgentHub implements AgentDirectory, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AgentHub.class);
    private static final Duration START_DEADLINE = Duration.ofSeconds(10);
    /**
     * JeroMQ 0.6.0 with a ZAP handler leaves about one CURVE handshake in twenty stalled (no ZAP request is
     * ever made); a short handshake deadline tears such a connection down and the agent's retry succeeds.
     */
    static final int HANDSHAKE_TIMEOUT_MS = 1000;
    /**
     * Generous queues: JeroMQ 0.6.0 corrupts CURVE traffic when a pipe reaches its high-water mark (it hands
     * the encrypted MESSAGE command up and drops messages), so the queues must never fill.
     */
    static final int HIGH_WATER_MARK = 100_000;

    private final HubConfig config;
    private final MessageCodec codec;
    private final String hubId = UUID.randomUUID().toString().substring(0, 8);
    private final AtomicLong nextRequest = new AtomicLong();
    private final ZContext context = new ZContext(1);
    private final ExecutorService events = Executors.newSingleThreadExecutor(r -> daemon(r, "weightlift-hub-events"));
    private final AgentRegistry registry = new AgentRegistry(events);
    private final PendingRequests pending = new PendingRequests();
    private final List<UpdateListener> updateListeners = new CopyOnWriteArrayList<>();
    private final HubMetrics metrics;
    private final HubLoop loop;
    private final AtomicBoolean closed = new AtomicBoolean();

    private AgentHub(HubConfig config, MeterRegistry meters) throws IOException {
        this.config = config;
        this.codec = new MessageCodec(config.maxMessageBytes());
        this.metrics = new HubMetrics(meters, registry::size, pending::size);
        this.loop = new HubLoop(context, config, new ZapAuthenticator(config.keys().agentPublic()), this);
    }

    /** Binds the hub and starts its I/O thread; fails with the bind error if the endpoint cannot be bound. */
    public static AgentHub start(HubConfig config, MeterRegistry meters) throws IOException {
        AgentHub hub = new AgentHub(config, meters);
        try {
            hub.loop.start(START_DEADLINE);
        } catch (IOException | RuntimeException e) {
            hub.close();
            throw e;
        }
        LOG.info("agent hub listening endpoint={} hub={}", hub.endpoint(), hub.hubId);
        return hub;
    }

    /** The endpoint actually bound (a wildcard port resolved), e.g. {@code tcp://127.0.0.1:40123}. */
    public String endpoint() {
        return loop.endpoint();
    }

    /**
     * Sends {@code request} to the agent on {@code node}. The future completes with the agent's response, or
     * fails with an {@link AgentException} naming the node: the agent answered with a failure, left, missed
     * heartbeats, was not registered, or did not answer within {@code deadline}.
     */
    public <R extends Response> CompletableFuture<R> request(String node, Request<R> request, Duration deadline) {
        CompletableFuture<Response> future = new CompletableFuture<>();
        String type = MessageCodec.typeName(request.getClass());
        if (!loop.running()) {
            future.completeExceptionally(new AgentException(node, AgentException.Reason.HUB_CLOSED,
                    "cannot send " + type + " to node " + node + ": the hub is closed"));
        } else if (!registry.contains(node)) {
            future.completeExceptionally(new AgentException(node, AgentException.Reason.NOT_CONNECTED,
                    "cannot send " + type + " to node " + node + ": no agent is registered for it"));
        } else {
            String id = hubId + "-" + nextRequest.incrementAndGet();
            long start = System.nanoTime();
            PendingRequests.Pending entry = new PendingRequests.Pending(id, node, request, future, start,
                    start + deadline.toNanos());
            pending.add(entry);
            loop.submit(() -> {
                String failure = send(node, new Envelope(id, request));
                PendingRequests.Pending taken = failure == null ? null : pending.take(id, node);
                if (taken != null) {
                    complete(List.of(new PendingRequests.Outcome(taken, null, new AgentException(node,
                            AgentException.Reason.NOT_CONNECTED, "cannot send " + taken.describe() + " to node "
                            + node + ": " + failure))));
                }
            });
        }
        return future.thenApply(request.responseType()::cast);
    }

    public void addUpdateListener(UpdateListener listener) {
        updateListeners.add(listener);
    }

    @Override
    public Optional<AgentInfo> agent(String node) {
        return registry.agent(node);
    }

    @Override
    public Collection<AgentInfo> agents() {
        return registry.agents();
    }

    @Override
    public void addChangeListener(ChangeListener listener) {
        registry.addChangeListener(listener);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        loop.stop();
        complete(pending.failAll("the hub closed"));
        events.shutdown();
        try {
            if (!events.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("hub events thread did not finish within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        metrics.close();
        context.close();
    }

    // ---- called on the I/O thread by HubLoop ----

    void onFrame(String node, byte[] frame) {
        Envelope envelope;
        try {
            envelope = codec.decode(frame);
        } catch (ProtocolException e) {
            metrics.rejected("malformed");
            LOG.warn("rejected message node={} error={}", node, e.getMessage());
            return;
        }
        metrics.messageIn(envelope.type());
        Message message = envelope.message();
        Instant now = Instant.now();
        if (message instanceof Register registration) {
            onRegister(node, envelope.id(), registration, now);
        } else if (!registry.contains(node)) {
            if (!(message instanceof Goodbye)) {
                send(node, new Envelope(envelope.id(), new NotRegistered("node " + node + " is not registered")));
            }
        } else if (message instanceof Heartbeat heartbeat) {
            registry.heartbeat(node, heartbeat.state(), now);
        } else if (message instanceof Goodbye goodbye) {
            markGone(node, "goodbye", "said goodbye: " + goodbye.reason());
        } else if (message instanceof UpdateProgress progress) {
            registry.seen(node, now);
            notifyListeners(l -> l.onProgress(node, envelope.id(), progress));
        } else if (message instanceof Response response) {
            registry.seen(node, now);
            onResponse(node, envelope.id(), response);
        } else {
            metrics.rejected("unexpected");
            LOG.warn("rejected message node={} type={} error=agents do not send this type", node, envelope.type());
        }
    }

    void onHeartbeatTick() {
        for (AgentInfo agent : registry.agents()) {
            send(agent.node(), new Envelope("hb", new Heartbeat(null)));
        }
        Instant cutoff = Instant.now().minus(config.agentTimeout());
        for (AgentInfo silent : registry.silentSince(cutoff)) {
            long millis = Duration.between(silent.lastSeen(), Instant.now()).toMillis();
            markGone(silent.node(), "timeout", "missed heartbeats for " + millis + " ms (limit "
                    + config.agentTimeout().toMillis() + " ms)");
        }
        complete(pending.expire(System.nanoTime()));
    }

    void onExpiryTick() {
        complete(pending.expire(System.nanoTime()));
    }

    void onConnectionRefused(String reason, String detail) {
        metrics.rejected(reason);
        LOG.warn("refused agent connection reason={} detail={}", reason, detail);
    }

    private void onRegister(String node, String id, Register registration, Instant now) {
        if (!registration.node().equals(node)) {
            metrics.rejected("identity");
            LOG.warn("rejected registration identity={} node={} error=identity and node differ", node,
                    registration.node());
            send(node, new Envelope(id, new NotRegistered("registration for node " + registration.node()
                    + " came with identity " + node)));
            return;
        }
        Optional<AgentInfo> previous = registry.register(registration, now);
        if (previous.isPresent() && !previous.get().registration().session().equals(registration.session())) {
            complete(pending.failNode(node, AgentException.Reason.GONE, "the agent on node " + node + " restarted"));
        }
        send(node, new Envelope(id, new Registered(hubId, config.heartbeatInterval().toMillis())));
        LOG.info("agent registered node={} backend={} gpus={} session={} reconnect={}", node, registration.backend(),
                registration.gpus().size(), registration.session(), previous.isPresent());
    }

    private void onResponse(String node, String id, Response response) {
        PendingRequests.Pending taken = pending.take(id, node);
        if (response instanceof UpdateResult result) {
            notifyListeners(l -> l.onResult(node, id, result));
        }
        if (taken == null) {
            LOG.info("dropped answer to no pending request node={} id={} type={}", node, id,
                    MessageCodec.typeName(response.getClass()));
            return;
        }
        complete(List.of(PendingRequests.answer(taken, response)));
    }

    private void markGone(String node, String metricReason, String why) {
        if (registry.remove(node, why).isEmpty()) {
            return;
        }
        metrics.agentGone(metricReason);
        LOG.warn("agent gone node={} reason={}", node, why);
        complete(pending.failNode(node, AgentException.Reason.GONE, "the agent on node " + node + " " + why));
    }

    /** Sends one envelope to a node; returns null when sent, else why not. */
    private String send(String node, Envelope envelope) {
        byte[] frame;
        try {
            frame = codec.encode(envelope);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        try {
            if (loop.send(node.getBytes(StandardCharsets.UTF_8), frame)) {
                metrics.messageOut(envelope.type());
                return null;
            }
            return "the agent is not connected";
        } catch (ZMQException e) {
            return "the agent is not connected (" + e.getMessage() + ")";
        }
    }

    private void complete(List<PendingRequests.Outcome> outcomes) {
        for (PendingRequests.Outcome outcome : outcomes) {
            PendingRequests.Pending entry = outcome.pending();
            Duration latency = Duration.ofNanos(System.nanoTime() - entry.startNanos());
            String type = MessageCodec.typeName(entry.request().getClass());
            metrics.requestDone(type, outcome.error() == null ? "ok" : outcome.error().reason().name().toLowerCase(),
                    latency);
            if (outcome.error() != null) {
                LOG.warn("request failed node={} request={} reason={} error={}", entry.node(), entry.describe(),
                        outcome.error().reason(), outcome.error().getMessage());
            }
            runOnEvents(() -> {
                if (outcome.error() != null) {
                    entry.future().completeExceptionally(outcome.error());
                } else {
                    entry.future().complete(outcome.response());
                }
            });
        }
    }

    private void notifyListeners(Consumer<UpdateListener> call) {
        for (UpdateListener listener : updateListeners) {
            runOnEvents(() -> {
                try {
                    call.accept(listener);
                } catch (RuntimeException e) {
                    LOG.warn("update listener failed", e);
                }
            });
        }
    }

    private void runOnEvents(Runnable task) {
        try {
            events.execute(task);
        } catch (RejectedExecutionException e) {
            task.run();
        }
    }

    private static Thread daemon(Runnable runnable, String name) {
        Thread thread = new Thread(runnable, name);
        thread.setDaemon(true);
        return thread;
    }

    static ZMQ.Socket routerSocket(ZContext context, HubConfig config) {
        ZMQ.Socket router = context.createSocket(SocketType.ROUTER);
        router.setLinger(0);
        router.setRouterMandatory(true);
        router.setRouterHandover(true);
        router.setMaxMsgSize(config.maxMessageBytes() + 1024L);
        router.setHandshakeIvl(HANDSHAKE_TIMEOUT_MS);
        router.setSndHWM(HIGH_WATER_MARK);
        router.setRcvHWM(HIGH_WATER_MARK);
        router.setZAPDomain("weightlift");
        router.setCurveServer(true);
        router.setCurveSecretKey(config.keys().serverSecret());
        return router;
    }
}
