package dev.weightlift.agent.engine.checkpointengine;

import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.engine.EngineException;
import dev.weightlift.agent.engine.TensorEntry;
import dev.weightlift.agent.engine.WorkerChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * {@link WorkerChannel} in checkpoint-engine v0.4's protocol: the agent binds a ZMQ REQ socket, the engine
 * worker (SGLang, LMDeploy, or vLLM with checkpoint-engine's worker extension) connects a REP socket to the
 * address the trigger gave it, and every pickled message is answered by {@code b""} or a traceback.
 *
 * <p>Only {@code tcp://} reaches a libzmq worker: JeroMQ's {@code ipc://} is TCP on loopback underneath and
 * libzmq's is a Unix socket, so checkpoint-engine's own {@code ipc://@...} addresses are not available
 * to a Java sender. A socket monitor counts the peers, so that a second peer (which REQ would silently
 * serve in turn) or a vanished one fails the step instead of corrupting or hanging it.
 *
 * <p>Not thread-safe: one update thread drives it, like the socket it owns.
 */
public final class CheckpointEngineChannel implements WorkerChannel {

    private static final Logger log = LoggerFactory.getLogger(CheckpointEngineChannel.class);
    private static final AtomicLong MONITORS = new AtomicLong();
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration ABORT_SEND_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration LAST_ANSWER_GRACE = Duration.ofMillis(200);
    private static final Duration CONNECT_POLL = Duration.ofMillis(100);

    private final ZContext context;
    private final ZMQ.Socket socket;
    private final ZMQ.Socket monitor;
    private final String address;
    private final String gpuUuid;
    private final int deviceIndex;

    private int peers;
    private boolean everConnected;
    private String pendingStep;
    private int bucketsSent;
    private boolean ended;
    private volatile String connectCancelled;

    private CheckpointEngineChannel(ZContext context, ZMQ.Socket socket, ZMQ.Socket monitor, String address,
            String gpuUuid, int deviceIndex) {
        this.context = context;
        this.socket = socket;
        this.monitor = monitor;
        this.address = address;
        this.gpuUuid = gpuUuid;
        this.deviceIndex = deviceIndex;
    }

    /**
     * Binds a REQ socket on an ephemeral TCP port of {@code host}, an address of this node that the engine
     * worker can reach (the node IP for a host-network agent), for the worker on GPU {@code gpuUuid}, which
     * this agent knows as CUDA device {@code deviceIndex}.
     */
    public static CheckpointEngineChannel bind(ZContext context, String host, String gpuUuid, int deviceIndex) {
        ZMQ.Socket socket = context.createSocket(SocketType.REQ);
        socket.setLinger(0);
        socket.setReqRelaxed(true);
        socket.setReqCorrelate(true);
        String monitorAddress = "inproc://weightlift-ce-monitor-" + MONITORS.incrementAndGet();
        socket.monitor(monitorAddress, ZMQ.EVENT_ACCEPTED | ZMQ.EVENT_DISCONNECTED);
        ZMQ.Socket monitor = context.createSocket(SocketType.PAIR);
        monitor.setLinger(0);
        monitor.connect(monitorAddress);
        int port;
        try {
            port = socket.bindToRandomPort("tcp://" + host);
        } catch (RuntimeException e) {
            context.destroySocket(socket);
            context.destroySocket(monitor);
            throw new IllegalArgumentException("cannot bind a checkpoint-engine socket on " + host + ": " + e, e);
        }
        String address = "tcp://" + host + ":" + port;
        log.info("checkpoint-engine channel bound gpu={} address={}", gpuUuid, address);
        return new CheckpointEngineChannel(context, socket, monitor, address, gpuUuid, deviceIndex);
    }

    /** What the trigger hands the engine as this GPU's entry of {@code zmq_handles}. */
    public String address() {
        return address;
    }

    @Override
    public String gpuUuid() {
        return gpuUuid;
    }

    @Override
    public void awaitConnected(Duration timeout) throws EngineException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!everConnected) {
            long left = remainingMillis(deadline);
            if (left <= 0) {
                throw failure("did not connect to " + address + " within " + timeout.toMillis() + " ms");
            }
            String cancelled = connectCancelled;
            if (cancelled != null) {
                throw failure("will not connect to " + address + ": " + cancelled);
            }
            monitor.setReceiveTimeOut((int) Math.min(left, CONNECT_POLL.toMillis()));
            ZMQ.Event event = ZMQ.Event.recv(monitor);
            if (event != null) {
                count(event);
            }
        }
        requireOnePeer("connecting");
        log.info("checkpoint-engine worker connected gpu={} address={}", gpuUuid, address);
    }

    @Override
    public void shareBuffer(ShareHandle handle, Duration timeout) throws EngineException {
        requireFresh();
        send(CheckpointEngineMessages.sharedBuffer(handle, deviceIndex), "sharing the buffer", timeout);
        try {
            awaitReply(timeout);
        } catch (EngineException e) {
            sendError("weightlift: the worker could not open the shared buffer");
            throw e;
        }
        log.info("checkpoint-engine buffer shared gpu={} handle={}", gpuUuid, handle);
    }

    @Override
    public void sendBucket(List<TensorEntry> tensors) throws EngineException {
        requireIdle();
        send(CheckpointEngineMessages.bucket(tensors), "bucket " + bucketsSent, SEND_TIMEOUT);
        bucketsSent++;
    }

    @Override
    public void awaitAck(Duration timeout) throws EngineException {
        if (pendingStep == null) {
            throw new IllegalStateException("nothing was sent to worker " + gpuUuid + " that awaits an answer");
        }
        awaitReply(timeout);
    }

    @Override
    public void release(Duration timeout) throws EngineException {
        requireIdle();
        send(CheckpointEngineMessages.none(), "releasing the buffer", timeout);
        awaitReply(timeout);
        log.info("checkpoint-engine buffer released gpu={} buckets={}", gpuUuid, bucketsSent);
    }

    @Override
    public void finish(Duration timeout) throws EngineException {
        requireIdle();
        send(CheckpointEngineMessages.none(), "running the post-load hook", timeout);
        awaitReply(timeout);
        ended = true;
        log.info("checkpoint-engine worker finished gpu={}", gpuUuid);
    }

    /** Sends the exception; never confirmed (the worker raises without answering): returns false. */
    @Override
    public boolean abort(String reason) {
        if (ended) {
            return false;
        }
        ended = true;
        socket.setSendTimeOut((int) ABORT_SEND_TIMEOUT.toMillis());
        boolean sent = socket.send(CheckpointEngineMessages.runtimeError("weightlift aborted the update: " + reason));
        log.warn("checkpoint-engine update aborted gpu={} delivered={} reason={}", gpuUuid, sent, reason);
        return false;
    }

    @Override
    public void cancelConnect(String reason) {
        connectCancelled = reason;
    }

    @Override
    public void close() {
        socket.monitor(null, 0);
        context.destroySocket(monitor);
        context.destroySocket(socket);
    }

    private void send(byte[] message, String step, Duration timeout) throws EngineException {
        drainMonitor();
        if (everConnected) {
            requireOnePeer(step);
        }
        socket.setSendTimeOut((int) Math.min(timeout.toMillis(), Integer.MAX_VALUE));
        if (!socket.send(message)) {
            throw failure("did not take the message for " + step + " within " + timeout.toMillis() + " ms ("
                    + (everConnected ? "worker not reading" : "no worker connected to " + address) + ")");
        }
        pendingStep = step;
    }

    private void awaitReply(Duration timeout) throws EngineException {
        String step = pendingStep;
        long deadline = System.nanoTime() + timeout.toNanos();
        try (ZMQ.Poller poller = context.createPoller(2)) {
            poller.register(socket, ZMQ.Poller.POLLIN);
            int monitorIndex = poller.register(monitor, ZMQ.Poller.POLLIN);
            while (true) {
                long left = remainingMillis(deadline);
                if (left <= 0) {
                    throw failure("did not answer " + step + " within " + timeout.toMillis() + " ms");
                }
                poller.poll(left);
                boolean peerChanged = poller.pollin(monitorIndex);
                if (peerChanged) {
                    drainMonitor();
                }
                byte[] reply = socket.recv(ZMQ.DONTWAIT);
                if (reply == null && peerChanged && peers != 1) {
                    // a worker that answers and then leaves (the last step) may be seen leaving first
                    socket.setReceiveTimeOut((int) Math.min(left, LAST_ANSWER_GRACE.toMillis()));
                    reply = socket.recv();
                }
                if (reply != null) {
                    pendingStep = null;
                    if (reply.length > 0) {
                        throw workerError(step, new String(reply, StandardCharsets.UTF_8));
                    }
                    return;
                }
                if (peerChanged) {
                    requireOnePeer(step);
                }
            }
        }
    }

    private void sendError(String message) {
        socket.setSendTimeOut((int) ABORT_SEND_TIMEOUT.toMillis());
        socket.send(CheckpointEngineMessages.runtimeError(message));
        ended = true;
    }

    private void drainMonitor() {
        ZMQ.Event event;
        while ((event = ZMQ.Event.recv(monitor, ZMQ.DONTWAIT)) != null) {
            count(event);
        }
    }

    private void count(ZMQ.Event event) {
        if (event.getEvent() == ZMQ.EVENT_ACCEPTED) {
            peers++;
            everConnected = true;
        } else if (event.getEvent() == ZMQ.EVENT_DISCONNECTED) {
            peers--;
        }
    }

    private void requireOnePeer(String step) throws EngineException {
        if (peers > 1) {
            throw failure(peers + " peers are connected to " + address + " during " + step
                    + "; only the worker of this GPU may connect");
        }
        if (peers < 1) {
            throw failure("disconnected from " + address + " during " + step);
        }
    }

    private void requireFresh() {
        if (pendingStep != null || bucketsSent > 0 || ended) {
            throw new IllegalStateException("the buffer is shared once, first, with worker " + gpuUuid);
        }
    }

    private void requireIdle() {
        if (pendingStep != null) {
            throw new IllegalStateException("worker " + gpuUuid + " has not answered " + pendingStep + " yet");
        }
        if (ended) {
            throw new IllegalStateException("the update of worker " + gpuUuid + " has ended");
        }
    }

    private EngineException failure(String what) {
        return new EngineException("checkpoint-engine worker " + gpuUuid + " " + what);
    }

    private EngineException workerError(String step, String traceback) {
        String trimmed = traceback.strip();
        String lastLine = trimmed.substring(trimmed.lastIndexOf('\n') + 1);
        log.warn("checkpoint-engine worker failed gpu={} step={} error={}", gpuUuid, step, lastLine);
        return new EngineException("checkpoint-engine worker " + gpuUuid + " (" + address + ") failed " + step
                + ": " + lastLine + "\n" + trimmed);
    }

    private static long remainingMillis(long deadlineNanos) {
        return Duration.ofNanos(deadlineNanos - System.nanoTime()).toMillis();
    }
}
