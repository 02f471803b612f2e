package dev.weightlift.agent.transport.ucx;

import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.store.CheckpointVersion;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.openucx.jucx.ucp.UcpConnectionRequest;
import org.openucx.jucx.ucp.UcpContext;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointParams;
import org.openucx.jucx.ucp.UcpListener;
import org.openucx.jucx.ucp.UcpListenerParams;
import org.openucx.jucx.ucp.UcpMemMapParams;
import org.openucx.jucx.ucp.UcpMemory;
import org.openucx.jucx.ucp.UcpWorker;
import org.openucx.jucx.ucp.UcpWorkerParams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sending side of P2P, passive as in checkpoint-engine: it registers buffers of the host store with
 * UCX ({@link #expose}) and listens on the agent's P2P port; receivers connect and read the buffers with
 * one-sided gets, so no thread of the holder copies a byte (on TCP, UCX's worker thread here answers the
 * reads). Closing withdraws every registration, closes the receivers' endpoints and the listener.
 */
public final class P2pHolder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(P2pHolder.class);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    private final UcpContext context;
    private final UcpWorker worker;
    private final WorkerLoop loop;
    private final UcpListener listener;
    private final InetSocketAddress address;
    private final Map<String, UcpMemory> exposed = new LinkedHashMap<>();
    private final Set<UcpEndpoint> receivers = ConcurrentHashMap.newKeySet();
    private boolean closed;

    private P2pHolder(UcpContext context, UcpWorker worker, InetSocketAddress bind) {
        this.context = context;
        this.worker = worker;
        this.loop = new WorkerLoop(worker, "p2p-holder-" + bind.getPort());
        try {
            this.listener = loop.call(() -> worker.newListener(new UcpListenerParams().setSockAddr(bind)
                    .setConnectionHandler(this::accept)), CALL_TIMEOUT);
        } catch (RuntimeException e) {
            loop.close();
            throw new P2pException("cannot listen for P2P reads on " + bind + ": " + e.getMessage(), e);
        }
        this.address = listener.getAddress();
    }

    /** Listens on {@code bind} (the agent's {@code WEIGHTLIFT_P2P_PORT}); fails clearly when UCX is missing. */
    public static P2pHolder start(InetSocketAddress bind) {
        UcpContext context = Ucx.newContext();
        UcpWorker worker;
        try {
            worker = context.newWorker(new UcpWorkerParams().requestThreadSafety());
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
        try {
            P2pHolder holder = new P2pHolder(context, worker, bind);
            LOG.info("p2p holder listening address={}", holder.address);
            return holder;
        } catch (RuntimeException e) {
            worker.close();
            context.close();
            throw e;
        }
    }

    /** Where receivers connect: the listener's address (its port is the real one when {@code bind} asked for 0). */
    public InetSocketAddress address() {
        return address;
    }

    /** Registers {@code region} (host memory) under {@code bufferId} and describes it for receivers. */
    public BufferDescriptor expose(String bufferId, MemoryRegion region) {
        if (!region.kind().hostVisible()) {
            throw new IllegalArgumentException("buffer " + bufferId + ": " + region + " is " + region.kind()
                    + " memory; P2P serves host memory of the host store");
        }
        return expose(bufferId, region.address(), region.size());
    }

    /** Registers {@code [address, address + size)} of this process under {@code bufferId}. */
    public synchronized BufferDescriptor expose(String bufferId, long address, long size) {
        if (closed) {
            throw new IllegalStateException("the P2P holder on " + this.address + " is closed");
        }
        if (exposed.containsKey(bufferId)) {
            throw new IllegalArgumentException("buffer " + bufferId + " is already exposed");
        }
        UcpMemory memory;
        try {
            memory = loop.call(() -> context.memoryMap(new UcpMemMapParams().setAddress(address).setLength(size)), CALL_TIMEOUT);
        } catch (RuntimeException e) {
            throw new P2pException("registering buffer " + bufferId + " (" + size + " B) with UCX failed: " + e.getMessage(), e);
        }
        exposed.put(bufferId, memory);
        ByteBuffer packed = memory.getRemoteKeyBuffer();
        byte[] key = new byte[packed.remaining()];
        packed.get(key);
        LOG.info("p2p buffer exposed id={} bytes={}", bufferId, size);
        return new BufferDescriptor(bufferId, address, size, key);
    }

    /**
     * Exposes every buffer of a host store version, in order, under {@link #bufferId}; a tensor's
     * {@code TensorLocation.buffer()} indexes the returned list. Hold a pin on the version while it is exposed.
     */
    public List<BufferDescriptor> expose(CheckpointVersion version) {
        List<BufferDescriptor> descriptors = new ArrayList<>();
        List<MemoryRegion> buffers = version.buffers();
        for (int i = 0; i < buffers.size(); i++) {
            descriptors.add(expose(bufferId(version.name(), version.version(), i), buffers.get(i)));
        }
        return descriptors;
    }

    /** Withdraws every buffer {@link #expose(CheckpointVersion)} exposed. */
    public void withdraw(CheckpointVersion version) {
        for (int i = 0; i < version.buffers().size(); i++) {
            withdraw(bufferId(version.name(), version.version(), i));
        }
    }

    /** {@code name@version#index}: the id of buffer {@code index} of a checkpoint version. */
    public static String bufferId(String name, String version, int index) {
        return name + "@" + version + "#" + index;
    }

    /** Deregisters {@code bufferId}; receivers still holding its descriptor can no longer read it. */
    public synchronized void withdraw(String bufferId) {
        UcpMemory memory = exposed.remove(bufferId);
        if (memory == null) {
            throw new IllegalArgumentException("buffer " + bufferId + " is not exposed");
        }
        loop.call(() -> {
            memory.deregister();
            return null;
        }, CALL_TIMEOUT);
        LOG.info("p2p buffer withdrawn id={}", bufferId);
    }

    public synchronized int exposedBuffers() {
        return exposed.size();
    }

    /** Receivers connected now. */
    public int receivers() {
        return receivers.size();
    }

    private void accept(UcpConnectionRequest request) {
        InetSocketAddress client = request.getClientAddress();
        try {
            UcpEndpoint endpoint = worker.newEndpoint(new UcpEndpointParams().setConnectionRequest(request)
                    .setPeerErrorHandlingMode().setName("p2p-receiver-" + client)
                    .setErrorHandler((ep, status, message) -> {
                        receivers.remove(ep);
                        LOG.info("p2p receiver gone client={} status={} reason={}", client, status, message);
                        ep.closeNonBlockingForce();
                    }));
            receivers.add(endpoint);
            LOG.info("p2p receiver connected client={}", client);
        } catch (RuntimeException e) {
            LOG.warn("p2p receiver refused client={} error={}", client, e.getMessage());
        }
    }

    @Override
    public void close() {
        List<UcpMemory> memories;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            memories = new ArrayList<>(exposed.values());
            exposed.clear();
        }
        loop.stop(() -> {
            receivers.forEach(UcpEndpoint::closeNonBlockingForce);
            receivers.clear();
            listener.close();
            memories.forEach(UcpMemory::deregister);
        }, CALL_TIMEOUT);
        worker.close();
        context.close();
        LOG.info("p2p holder closed address={}", address);
    }
}
