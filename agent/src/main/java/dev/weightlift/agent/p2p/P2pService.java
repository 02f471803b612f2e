package dev.weightlift.agent.p2p;

import dev.weightlift.agent.store.CheckpointPin;
import dev.weightlift.agent.store.CheckpointVersion;
import dev.weightlift.agent.store.HostStore;
import dev.weightlift.agent.store.TensorLocation;
import dev.weightlift.agent.store.safetensors.Dtype;
import dev.weightlift.agent.transport.ucx.BufferDescriptor;
import dev.weightlift.agent.transport.ucx.P2pException;
import dev.weightlift.agent.transport.ucx.P2pHolder;
import dev.weightlift.agent.transport.ucx.P2pReceiver;
import dev.weightlift.agent.transport.ucx.P2pReceiverOptions;
import dev.weightlift.agent.transport.ucx.RangeRead;
import dev.weightlift.agent.update.UpdateService;
import dev.weightlift.protocol.Ack;
import dev.weightlift.protocol.CheckpointExposed;
import dev.weightlift.protocol.CheckpointLoaded;
import dev.weightlift.protocol.ExposeCheckpoint;
import dev.weightlift.protocol.FetchCheckpoint;
import dev.weightlift.protocol.KeepCheckpoints;
import dev.weightlift.protocol.ProtocolException;
import dev.weightlift.protocol.broadcast.FetchWork;
import dev.weightlift.protocol.broadcast.LoadedTensor;
import dev.weightlift.protocol.broadcast.WorkCodec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of P2P scale-up. As a holder it serves held versions to readers (pinned and registered
 * with its UCX listener, no GPU work) and keeps pinned what the operator says is still needed; as a
 * receiver it builds a version in its host store from one-sided reads of the holders' buffers, after which
 * the ordinary update pipeline pushes it into the new engine.
 */
public final class P2pService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(P2pService.class);
    private static final String SERVE = "p2p-serve";
    private static final String KEEP = "operator-keep";

    private final HostStore store;
    private final String hostIp;
    private final int port;
    private final Duration readTimeout;
    private final Counter bytesRead;
    private final Map<String, Exposed> exposed = new HashMap<>();
    private final Map<String, CheckpointPin> kept = new HashMap<>();
    private final Map<String, Fetch> fetches = new ConcurrentHashMap<>();
    private P2pHolder holder;
    private P2pReceiver receiver;

    private record Exposed(CheckpointPin pin, List<BufferDescriptor> descriptors) {
    }

    /** A fetch in flight: set {@code abortReason} to stop it; {@code done} completes once it stopped. */
    private static final class Fetch {
        volatile String abortReason;
        final CompletableFuture<Void> done = new CompletableFuture<>();
    }

    public P2pService(HostStore store, String hostIp, int port, Duration readTimeout, MeterRegistry meters) {
        this.store = store;
        this.hostIp = hostIp;
        this.port = port;
        this.readTimeout = readTimeout;
        this.bytesRead = Counter.builder("weightlift.p2p.read.bytes").description("bytes this agent read from holders by P2P")
                .baseUnit("bytes").register(meters);
        Gauge.builder("weightlift.p2p.kept.versions", this, P2pService::keptVersions)
                .description("checkpoint versions kept pinned because an update still needs them").register(meters);
    }

    /** Pins a held version, registers its buffers with the P2P listener (started on first use) and describes them. */
    public synchronized CheckpointExposed expose(ExposeCheckpoint request) {
        String key = request.name() + "@" + request.version();
        Exposed current = exposed.get(key);
        if (current == null) {
            CheckpointPin pin = store.pin(request.name(), request.version(), SERVE);
            try {
                current = new Exposed(pin, holder().expose(pin.version()));
            } catch (RuntimeException e) {
                pin.close();
                throw e;
            }
            exposed.put(key, current);
            LOG.info("p2p serving checkpoint={} version={} buffers={}", request.name(), request.version(), current.descriptors().size());
        }
        CheckpointLoaded report = UpdateService.report(request.name(), request.version(), current.pin().version());
        return new CheckpointExposed(request.name(), request.version(), hostIp, holder.address().getPort(),
                current.descriptors().stream().map(BufferDescriptor::toBase64).toList(), report.tensors());
    }

    /**
     * Builds the version from the holders' buffers, or adds the tensors read to the share of it held already,
     * and reports it like a load. {@link #abort} of the request's update stops it; nothing read stays then.
     */
    public CheckpointLoaded fetch(FetchCheckpoint request) throws ProtocolException, IOException {
        FetchWork work = WorkCodec.fromTree(request.work(), FetchWork.class);
        CheckpointVersion held = store.get(request.name(), request.version()).orElse(null);
        if (held == null || !work.buffers().isEmpty()) {
            Fetch fetch = new Fetch();
            if (fetches.putIfAbsent(request.updateId(), fetch) != null) {
                throw new IllegalStateException("update " + request.updateId() + " is fetching already on this node");
            }
            try {
                held = receive(request.name(), request.version(), work, fetch);
            } finally {
                fetches.remove(request.updateId(), fetch);
                fetch.done.complete(null);
            }
        }
        return UpdateService.report(request.name(), request.version(), held);
    }

    /**
     * Stops the fetch of {@code updateId}, if one runs, and waits (at most {@code wait}) until it has stopped and
     * freed what it allocated.
     *
     * @throws IllegalStateException when it did not stop in time
     */
    public void abort(String updateId, String reason, Duration wait) {
        Fetch fetch = fetches.get(updateId);
        if (fetch == null) {
            return;
        }
        LOG.info("aborting p2p fetch update={} reason={}", updateId, reason);
        fetch.abortReason = reason;
        try {
            fetch.done.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            throw new IllegalStateException("the p2p fetch of update " + updateId + " did not stop within " + wait.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while aborting the p2p fetch of update " + updateId, e);
        }
    }

    /** Pins exactly the listed versions that are held; stops serving and unpins every other. */
    public synchronized Ack keep(KeepCheckpoints request) {
        Set<String> wanted = new HashSet<>();
        for (KeepCheckpoints.Kept k : request.keep()) {
            String key = k.name() + "@" + k.version();
            wanted.add(key);
            if (!kept.containsKey(key) && store.get(k.name(), k.version()).isPresent()) {
                kept.put(key, store.pin(k.name(), k.version(), KEEP));
                LOG.info("checkpoint kept pinned checkpoint={} version={}", k.name(), k.version());
            }
        }
        for (String key : new ArrayList<>(kept.keySet())) {
            if (!wanted.contains(key)) {
                kept.remove(key).close();
                LOG.info("checkpoint no longer needed checkpoint={}", key);
            }
        }
        for (String key : new ArrayList<>(exposed.keySet())) {
            if (!wanted.contains(key)) {
                Exposed gone = exposed.remove(key);
                holder.withdraw(gone.pin().version());
                gone.pin().close();
            }
        }
        return new Ack();
    }

    private synchronized int keptVersions() {
        return kept.size();
    }

    /** Bytes read from holders since the agent started. */
    public long bytesRead() {
        return (long) bytesRead.count();
    }

    private CheckpointVersion receive(String name, String version, FetchWork work, Fetch fetch) throws IOException {
        List<List<RangeRead>> readsByBuffer = new ArrayList<>();
        List<Long> sizes = new ArrayList<>();
        List<TensorLocation> tensors = new ArrayList<>();
        for (int b = 0; b < work.buffers().size(); b++) {
            FetchWork.Buffer buffer = work.buffers().get(b);
            sizes.add(buffer.size());
            List<RangeRead> reads = new ArrayList<>();
            for (FetchWork.Read read : buffer.reads()) {
                if (read.source() < 0 || read.source() >= work.sources().size()) {
                    throw new IllegalArgumentException("fetch of " + name + "@" + version + ": read names source " + read.source()
                            + " of " + work.sources().size());
                }
                FetchWork.Source source = work.sources().get(read.source());
                if (read.descriptor() < 0 || read.descriptor() >= source.descriptors().size()) {
                    throw new IllegalArgumentException("fetch of " + name + "@" + version + ": read names buffer " + read.descriptor()
                            + " of node " + source.node() + ", which exposes " + source.descriptors().size());
                }
                reads.add(new RangeRead(new InetSocketAddress(source.host(), source.port()),
                        BufferDescriptor.fromBase64(source.descriptors().get(read.descriptor())), read.sourceOffset(), read.length(),
                        read.bufferOffset()));
            }
            readsByBuffer.add(reads);
            for (LoadedTensor t : buffer.tensors()) {
                tensors.add(new TensorLocation(t.name(), Dtype.byName(t.dtype()), t.shape().stream().mapToLong(Long::longValue).toArray(),
                        t.bytes(), b, t.offset()));
            }
        }
        long started = System.nanoTime();
        CheckpointVersion received = store.receive(name, version, sizes, tensors, buffers -> {
            P2pReceiver reader = receiver();
            for (int b = 0; b < buffers.size(); b++) {
                if (fetch.abortReason != null) {
                    throw new P2pException("reading stopped: " + fetch.abortReason);
                }
                try {
                    reader.read(readsByBuffer.get(b), buffers.get(b), readTimeout, () -> fetch.abortReason);
                } finally {
                    reader.release(buffers.get(b));
                }
                bytesRead.increment(readsByBuffer.get(b).stream().mapToLong(RangeRead::length).sum());
            }
        });
        double seconds = (System.nanoTime() - started) / 1e9;
        LOG.info("p2p checkpoint received checkpoint={} version={} holders={} bytes={} seconds={}", name, version,
                work.sources().stream().map(FetchWork.Source::node).toList(), received.bytes(), String.format("%.3f", seconds));
        return received;
    }

    private synchronized P2pHolder holder() {
        if (holder == null) {
            holder = P2pHolder.start(new InetSocketAddress("0.0.0.0", port));
        }
        return holder;
    }

    private synchronized P2pReceiver receiver() {
        if (receiver == null) {
            receiver = P2pReceiver.create(P2pReceiverOptions.DEFAULT);
        }
        return receiver;
    }

    @Override
    public synchronized void close() {
        exposed.values().forEach(e -> e.pin().close());
        exposed.clear();
        kept.values().forEach(CheckpointPin::close);
        kept.clear();
        if (holder != null) {
            holder.close();
        }
        if (receiver != null) {
            receiver.close();
        }
    }
}
