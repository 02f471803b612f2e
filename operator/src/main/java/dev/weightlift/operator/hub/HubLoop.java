package dev.weightlift.operator.hub;

import dev.weightlift.protocol.CommandQueue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;
import org.zeromq.ZMsg;

/**
 * The hub's I/O thread: owns the ROUTER and the ZAP socket, and runs the commands
 * other threads submit (woken through a pipe). Everything it receives goes to the {@link AgentHub}.
 */
final class HubLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(HubLoop.class);
    private static final long MAX_WAIT_MS = 50;

    private final ZContext context;
    private final HubConfig config;
    private final ZapAuthenticator authenticator;
    private final AgentHub hub;
    private final CommandQueue commands;
    private final Thread thread;
    private final CountDownLatch bound = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile String endpoint;
    private volatile RuntimeException bindFailure;
    private ZMQ.Socket router;

    HubLoop(ZContext context, HubConfig config, ZapAuthenticator authenticator, AgentHub hub) throws IOException {
        this.context = context;
        this.config = config;
        this.authenticator = authenticator;
        this.hub = hub;
        this.commands = new CommandQueue();
        this.thread = new Thread(this, "weightlift-hub-io");
        thread.setDaemon(true);
    }

    void start(Duration deadline) throws IOException {
        thread.start();
        try {
            if (!bound.await(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IOException("hub did not bind " + config.bindEndpoint() + " within " + deadline);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding " + config.bindEndpoint(), e);
        }
        if (bindFailure != null) {
            throw new IOException("cannot bind the agent hub at " + config.bindEndpoint() + ": "
                    + bindFailure.getMessage(), bindFailure);
        }
    }

    String endpoint() {
        return endpoint;
    }

    boolean running() {
        return running;
    }

    /** Runs {@code command} on the I/O thread. */
    void submit(Runnable command) {
        commands.submit(command);
    }

    /** On the I/O thread only. */
    boolean send(byte[] identity, byte[] frame) {
        return router.send(identity, ZMQ.SNDMORE | ZMQ.DONTWAIT) && router.send(frame, ZMQ.DONTWAIT);
    }

    void stop() {
        running = false;
        submit(() -> { });
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        commands.close();
    }

    @Override
    public void run() {
        ZMQ.Socket zap = null;
        try {
            zap = context.createSocket(SocketType.REP);
            zap.setLinger(0);
            zap.bind(ZapAuthenticator.ENDPOINT);
            router = AgentHub.routerSocket(context, config);
            router.bind(config.bindEndpoint());
            endpoint = router.getLastEndpoint();
        } catch (RuntimeException e) {
            bindFailure = e;
            running = false;
            bound.countDown();
            closeAll(zap);
            return;
        }
        bound.countDown();
        try {
            loop(zap);
        } catch (RuntimeException e) {
            LOG.error("agent hub I/O thread failed; the hub stops", e);
            running = false;
        } finally {
            closeAll(zap);
        }
    }

    /**
     * Reads every socket on every pass, not only those the poller flags: a ZeroMQ socket's readiness is
     * edge-triggered, and a missed edge must cost one pass, never a stalled handshake.
     */
    private void loop(ZMQ.Socket zap) {
        ZMQ.Poller poller = context.createPoller(3);
        poller.register(router, ZMQ.Poller.POLLIN);
        poller.register(zap, ZMQ.Poller.POLLIN);
        poller.register(commands.wakeChannel(), ZMQ.Poller.POLLIN);
        long heartbeatNanos = config.heartbeatInterval().toNanos();
        long nextHeartbeat = System.nanoTime() + heartbeatNanos;
        try {
            while (running) {
                long waitMs = Math.max(1, Math.min(MAX_WAIT_MS, (nextHeartbeat - System.nanoTime()) / 1_000_000));
                poller.poll(waitMs);
                commands.runAll();
                answerZap(zap);
                receiveAll();
                if (System.nanoTime() - nextHeartbeat >= 0) {
                    nextHeartbeat = System.nanoTime() + heartbeatNanos;
                    tick(hub::onHeartbeatTick);
                } else {
                    tick(hub::onExpiryTick);
                }
            }
        } finally {
            poller.close();
        }
    }

    private static void tick(Runnable tick) {
        try {
            tick.run();
        } catch (RuntimeException e) {
            LOG.error("hub timer work failed; the hub carries on", e);
        }
    }

    private void receiveAll() {
        for (ZMsg message; (message = ZMsg.recvMsg(router, ZMQ.DONTWAIT)) != null; ) {
            try {
                String node = message.pop().getString(StandardCharsets.UTF_8);
                if (message.size() != 1) {
                    hub.onConnectionRefused("malformed", "node " + node + " sent " + message.size()
                            + " frames, expected 1");
                    continue;
                }
                hub.onFrame(node, message.pop().getData());
            } catch (RuntimeException e) {
                LOG.error("handling a message failed; the hub carries on", e);
            } finally {
                message.destroy();
            }
        }
    }

    private void answerZap(ZMQ.Socket zap) {
        for (ZMsg request; (request = ZMsg.recvMsg(zap, ZMQ.DONTWAIT)) != null; ) {
            ZapAuthenticator.Decision decision = authenticator.decide(request);
            request.destroy();
            decision.reply().send(zap);
            if (decision.refusal() != null) {
                hub.onConnectionRefused("unauthorized", decision.refusal() + " from " + decision.address());
            }
        }
    }

    private void closeAll(ZMQ.Socket zap) {
        for (ZMQ.Socket socket : new ZMQ.Socket[] {router, zap}) {
            if (socket != null) {
                try {
                    socket.close();
                } catch (ZMQException e) {
                    LOG.debug("closing a hub socket", e);
                }
            }
        }
    }
}
