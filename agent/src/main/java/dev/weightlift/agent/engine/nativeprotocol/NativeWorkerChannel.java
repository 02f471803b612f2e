package dev.weightlift.agent.engine.nativeprotocol;

import dev.weightlift.agent.device.FileWindow;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.engine.EngineException;
import dev.weightlift.agent.engine.HostRange;
import dev.weightlift.agent.engine.TensorEntry;
import dev.weightlift.agent.engine.WorkerChannel;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link WorkerChannel} over the native protocol: made by {@link EngineChannelServer#expect}, connected
 * when the worker of its GPU says hello. Lock-step: each send is followed by one {@link #awaitAck}.
 */
public final class NativeWorkerChannel implements WorkerChannel {

    private final String update;
    private final String gpuUuid;
    private final ChannelTimeouts timeouts;
    private final Runnable unregister;
    private final CompletableFuture<FrameConnection> connected = new CompletableFuture<>();
    private final AtomicBoolean claimed = new AtomicBoolean();
    private volatile Messages.Hello hello;
    private String pendingStep;
    private int nextBucket;
    private int ackedBuckets;
    private boolean bucketWriteFailed;
    private boolean failed;

    NativeWorkerChannel(String update, String gpuUuid, ChannelTimeouts timeouts, Runnable unregister) {
        this.update = update;
        this.gpuUuid = gpuUuid;
        this.timeouts = timeouts;
        this.unregister = unregister;
    }

    /** Reserves this channel for a worker whose hello matched; false when another worker holds it. */
    boolean claim() {
        return claimed.compareAndSet(false, true);
    }

    /** Gives a claim back (the worker went away before it was welcomed). */
    void unclaim() {
        claimed.set(false);
    }

    /** Hands over a claimed, welcomed connection; from here on only the pipeline's thread uses it. */
    void attach(FrameConnection connection, Messages.Hello hello) {
        this.hello = hello;
        if (!connected.complete(connection)) {
            connection.close();
        }
    }

    @Override
    public String gpuUuid() {
        return gpuUuid;
    }

    /** The worker's hello, once connected; null before. */
    public Messages.Hello hello() {
        return hello;
    }

    @Override
    public void awaitConnected(Duration timeout) throws EngineException {
        connection(timeout);
    }

    @Override
    public void shareBuffer(ShareHandle handle, Duration timeout) throws EngineException {
        shareBuffers(handle, List.of(), List.of(), timeout);
    }

    @Override
    public boolean readsHostBuffers() {
        Messages.Hello h = hello;
        return h != null && h.features().contains(Messages.HOST_BUFFERS);
    }

    @Override
    public void shareBuffers(ShareHandle slot, List<FileWindow> hostBuffers, List<HostRange> readAhead, Duration timeout)
            throws EngineException {
        if (!hostBuffers.isEmpty() && !readsHostBuffers()) {
            throw new EngineException("engine worker " + gpuUuid + " did not declare '" + Messages.HOST_BUFFERS
                    + "' in its hello, so it cannot read host buffers in place");
        }
        Instant deadline = Instant.now().plus(timeout);
        String what = (slot == null ? "" : "the shared buffer " + slot + (hostBuffers.isEmpty() ? "" : " and "))
                + (hostBuffers.isEmpty() ? "" : hostBuffers.size() + " host-store files");
        send(Messages.share(slot, hostBuffers, readAhead), "opening " + what, deadline, timeout);
        awaitReply("ack", deadline);
    }

    @Override
    public void sendBucket(List<TensorEntry> tensors) throws EngineException {
        sendBucket(tensors, null);
    }

    @Override
    public void sendBucket(List<TensorEntry> tensors, long crc32) throws EngineException {
        sendBucket(tensors, Long.valueOf(crc32));
    }

    /**
     * With buckets in flight a failed write is not the failure: the worker stopped reading because one of them
     * failed, and its answer (an error, read by {@link #awaitAck}) says why; later buckets are not written.
     */
    private void sendBucket(List<TensorEntry> tensors, Long crc32) throws EngineException {
        int id = nextBucket++;
        if (bucketWriteFailed) {
            return;
        }
        FrameConnection connection = prepare("loading bucket " + id, timeouts.write());
        try {
            connection.write(Messages.bucket(id, tensors, crc32), Instant.now().plus(timeouts.write()));
        } catch (IOException e) {
            if (ackedBuckets == id) {
                throw fail(describe(e), e);
            }
            bucketWriteFailed = true;
        }
    }

    /** The ack of the oldest bucket not acknowledged yet (with host buffers, several may be in flight). */
    @Override
    public void awaitAck(Duration timeout) throws EngineException {
        if (ackedBuckets >= nextBucket) {
            awaitReply("ack", Instant.now().plus(timeout));
            return;
        }
        int expectedId = ackedBuckets;
        pendingStep = "loading bucket " + expectedId;
        Frame reply = awaitReply("ack", Instant.now().plus(timeout));
        if (reply.json().path("id").asInt(-1) != expectedId) {
            throw fail("acknowledged bucket " + reply.json().path("id") + " instead of bucket " + expectedId, null);
        }
        ackedBuckets++;
    }

    @Override
    public void release(Duration timeout) throws EngineException {
        Instant deadline = Instant.now().plus(timeout);
        send(Messages.release(), "releasing the shared buffer", deadline, timeout);
        awaitReply("ack", deadline);
    }

    @Override
    public void finish(Duration timeout) throws EngineException {
        finish("", timeout);
    }

    @Override
    public void finish(String version, Duration timeout) throws EngineException {
        Instant deadline = Instant.now().plus(timeout);
        send(Messages.finish(version), "finishing (post-load processing)", deadline, timeout);
        Frame done = awaitReply("done", deadline);
        String reported = done.json().path("version").asText("");
        if (!version.equals(reported)) {
            throw fail("reported version '" + reported + "' instead of '" + version + "'", null);
        }
    }

    @Override
    public boolean abort(String reason) {
        FrameConnection connection = attached();
        if (connection == null || !connection.isOpen()) {
            return false;
        }
        Instant deadline = Instant.now().plus(timeouts.abort());
        boolean acknowledged;
        try {
            connection.write(Messages.abort(reason), deadline);
            Frame reply = connection.read(deadline);
            // acks of buckets still in flight come first; the abort's own ack carries no bucket id
            while ("ack".equals(reply.type()) && reply.json().has("id")) {
                reply = connection.read(deadline);
            }
            acknowledged = "ack".equals(reply.type());
        } catch (IOException e) {
            // best effort: the worker may already be gone, and the connection is closed below either way
            acknowledged = false;
        }
        connection.close();
        return acknowledged;
    }

    @Override
    public void cancelConnect(String reason) {
        connected.completeExceptionally(new IllegalStateException(reason));
    }

    @Override
    public void close() {
        unregister.run();
        connected.completeExceptionally(new IllegalStateException("channel closed"));
        FrameConnection connection = attached();
        if (connection != null) {
            connection.close();
        }
    }

    private FrameConnection attached() {
        return connected.isDone() && !connected.isCompletedExceptionally() ? connected.join() : null;
    }

    private FrameConnection connection(Duration timeout) throws EngineException {
        try {
            return connected.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new EngineException("engine worker on GPU " + gpuUuid + " did not connect for update " + update
                    + " within " + timeout.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw new EngineException("engine worker on GPU " + gpuUuid + " will not connect for update " + update + ": "
                    + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted waiting for the engine worker on GPU " + gpuUuid);
        }
    }

    private void send(Frame frame, String step, Instant deadline, Duration timeout) throws EngineException {
        FrameConnection connection = prepare(step, timeout);
        try {
            connection.write(frame, deadline);
        } catch (IOException e) {
            throw fail(describe(e), e);
        }
    }

    /** The connection to write {@code step}'s message on, once the channel is known not to have failed. */
    private FrameConnection prepare(String step, Duration timeout) throws EngineException {
        if (failed) {
            throw new EngineException(who() + " already failed; not " + step);
        }
        FrameConnection connection = connection(timeout);
        pendingStep = step;
        return connection;
    }

    private Frame awaitReply(String type, Instant deadline) throws EngineException {
        if (pendingStep == null) {
            throw new IllegalStateException("nothing was sent to " + who() + " that could be acknowledged");
        }
        FrameConnection connection = attached();
        Frame reply;
        try {
            reply = connection.read(deadline);
        } catch (IOException e) {
            throw fail(describe(e), e);
        }
        if ("error".equals(reply.type())) {
            throw fail("answered: " + Messages.errorText(reply), null);
        }
        if (!type.equals(reply.type())) {
            throw fail("broke the protocol: expected '" + type + "', got '" + reply.type() + "'", null);
        }
        return reply;
    }

    private EngineException fail(String what, Throwable cause) {
        failed = true;
        FrameConnection connection = attached();
        if (connection != null && cause != null) {
            connection.close();
        }
        return new EngineException(who() + " failed " + pendingStep + ": " + what, cause);
    }

    private static String describe(IOException e) {
        if (e instanceof SocketTimeoutException) {
            return "no answer before the deadline";
        }
        if (e instanceof ProtocolException) {
            return "malformed message: " + e.getMessage();
        }
        return "the worker closed the connection (engine process died or gave up): "
                + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }

    private String who() {
        Messages.Hello h = hello;
        return "engine worker on GPU " + gpuUuid + (h == null ? "" : " (pid " + h.pid() + ")") + " of update " + update;
    }
}
