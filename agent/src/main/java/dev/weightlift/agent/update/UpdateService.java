package dev.weightlift.agent.update;

import dev.weightlift.agent.Agent;
import dev.weightlift.agent.AgentEnvironment;
import dev.weightlift.agent.StatusSources;
import dev.weightlift.agent.device.DeviceBackend;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.engine.EngineConnector;
import dev.weightlift.agent.engine.EngineException;
import dev.weightlift.agent.engine.EngineProtocol;
import dev.weightlift.agent.engine.EngineProtocolUnsupportedException;
import dev.weightlift.agent.engine.EngineType;
import dev.weightlift.agent.engine.WorkerChannel;
import dev.weightlift.agent.engine.checkpointengine.CheckpointEngineConnector;
import dev.weightlift.agent.engine.nativeprotocol.ChannelServerConfig;
import dev.weightlift.agent.engine.nativeprotocol.EngineChannelServer;
import dev.weightlift.agent.p2p.P2pService;
import dev.weightlift.agent.engine.nativeprotocol.NativeConnector;
import dev.weightlift.agent.engine.trigger.EngineTrigger;
import dev.weightlift.agent.engine.trigger.EngineTriggers;
import dev.weightlift.agent.pipeline.NodePipeline;
import dev.weightlift.agent.pipeline.PipelineMetrics;
import dev.weightlift.agent.store.CheckpointPin;
import dev.weightlift.agent.store.CheckpointVersion;
import dev.weightlift.agent.store.HostStore;
import dev.weightlift.agent.store.HostStoreMetrics;
import dev.weightlift.agent.store.TensorLocation;
import dev.weightlift.agent.transport.host.TransferServer;
import dev.weightlift.protocol.AbortUpdate;
import dev.weightlift.protocol.Ack;
import dev.weightlift.protocol.CheckpointLoaded;
import dev.weightlift.protocol.ExposeCheckpoint;
import dev.weightlift.protocol.FetchCheckpoint;
import dev.weightlift.protocol.HeldCheckpoint;
import dev.weightlift.protocol.KeepCheckpoints;
import dev.weightlift.protocol.LoadCheckpoint;
import dev.weightlift.protocol.PrepareUpdate;
import dev.weightlift.protocol.ProtocolException;
import dev.weightlift.protocol.ReleaseCheckpoint;
import dev.weightlift.protocol.RequestRefused;
import dev.weightlift.protocol.RunUpdate;
import dev.weightlift.protocol.UpdatePrepared;
import dev.weightlift.protocol.UpdateProgress;
import dev.weightlift.protocol.UpdateResult;
import dev.weightlift.protocol.broadcast.CollectiveAddress;
import dev.weightlift.protocol.broadcast.LoadedTensor;
import dev.weightlift.protocol.broadcast.NodePrepared;
import dev.weightlift.protocol.broadcast.NodeWork;
import dev.weightlift.protocol.broadcast.RunWork;
import dev.weightlift.protocol.broadcast.WorkCodec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.ZContext;

/**
 * The agent's side of the Broadcast flow, one handler per control request: load checkpoint files into the
 * host store, prepare an update (pin the checkpoint, open the collective and the engine channels), run it,
 * abort it, release a checkpoint; the P2P requests (expose, fetch, keep) go to the {@link P2pService} it builds.
 * Thread-safe; {@link #run} blocks for the update's length (call it off the control loop).
 */
public final class UpdateService implements StatusSources, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(UpdateService.class);
    private static final Duration ABORT_WAIT = Duration.ofSeconds(20);
    private static final Duration P2P_READ_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration TRANSFER_PARK_TIMEOUT = Duration.ofSeconds(60);
    /** The reason of a refused engine protocol, as the WeightUpdate's status reports it. */
    public static final String ENGINE_PROTOCOL_UNSUPPORTED = "EngineProtocolUnsupported";

    private final DeviceBackend backend;
    private final HostStore store;
    private final Map<EngineProtocol, EngineConnector> connectors;
    private final NodePipeline pipeline;
    private final CollectiveFactory collectives;
    private final Map<String, NodeUpdate> updates = new ConcurrentHashMap<>();
    private final List<AutoCloseable> owned = new ArrayList<>();

    /** {@code connectors}: how this agent reaches engine workers, per engine protocol it serves. */
    public UpdateService(DeviceBackend backend, HostStore store, Map<EngineProtocol, EngineConnector> connectors, NodePipeline pipeline,
            CollectiveFactory collectives) {
        this.backend = backend;
        this.store = store;
        this.connectors = Map.copyOf(connectors);
        this.pipeline = pipeline;
        this.collectives = collectives;
    }

    /**
     * Builds the agent's data plane (host store within the backend's host budget, the engine socket, the node
     * pipeline, the host backend's transfer server), serves the control requests of the Broadcast flow on the agent's
     * control client and reports what it holds with every heartbeat. Call before {@link Agent#start()}; closing
     * the service closes what it built.
     */
    public static UpdateService attach(Agent agent) throws IOException {
        AgentEnvironment env = agent.environment();
        HostStore store = new HostStore(agent.backend().hostAllocator());
        new HostStoreMetrics(store).bindTo(agent.meters());
        EngineChannelServer engines = EngineChannelServer.start(ChannelServerConfig.unixSocket(env.socketDir())
                .withSocketMode(String.format(Locale.ROOT, "%04o", env.socketMode())).withSocketGroup(env.socketGroup().orElse(null)));
        NodePipeline pipeline = new NodePipeline(new PipelineMetrics(agent.meters()));
        TransferServer transfers = agent.backend().name().equals("host")
                ? TransferServer.start(new InetSocketAddress("0.0.0.0", 0), TRANSFER_PARK_TIMEOUT) : null;
        CollectiveFactory collectives = transfers != null ? CollectiveFactory.hostTransfer(transfers, env.hostIp())
                : CollectiveFactory.nccl();
        ZContext zmq = new ZContext();
        Map<EngineProtocol, EngineConnector> connectors = Map.of(EngineProtocol.NATIVE, new NativeConnector(engines),
                EngineProtocol.CHECKPOINT_ENGINE, new CheckpointEngineConnector(zmq, env.hostIp(), agent.backend().name()));
        UpdateService service = new UpdateService(agent.backend(), store, connectors, pipeline, collectives);
        P2pService p2p = new P2pService(store, env.hostIp(), env.p2pPort(), P2P_READ_TIMEOUT, agent.meters());
        service.owned.add(p2p);
        if (transfers != null) {
            service.owned.add(transfers);
        }
        service.owned.add(pipeline);
        service.owned.add(engines);
        service.owned.add(zmq);
        service.owned.add(store);
        agent.control()
                .handle(LoadCheckpoint.class, (request, context) -> service.load(request))
                .handle(PrepareUpdate.class, (request, context) -> service.prepare(request))
                .handle(RunUpdate.class, (request, context) -> service.run(request, context::progress))
                .handle(AbortUpdate.class, (request, context) -> {
                    p2p.abort(request.updateId(), request.reason(), ABORT_WAIT);
                    return service.abort(request);
                })
                .handle(ReleaseCheckpoint.class, (request, context) -> service.release(request))
                .handle(ExposeCheckpoint.class, (request, context) -> p2p.expose(request))
                .handle(FetchCheckpoint.class, (request, context) -> p2p.fetch(request))
                .handle(KeepCheckpoints.class, (request, context) -> p2p.keep(request));
        agent.statusSources(service);
        return service;
    }

    /**
     * Reads the files into the host store (once per version; a version held in part, e.g. a share read by P2P,
     * gets the files' tensors it lacks) and reports every tensor held. A held version whose files can no longer
     * be read (a rollback to a version whose files are gone) is reported as held.
     */
    public CheckpointLoaded load(LoadCheckpoint request) throws IOException {
        CheckpointVersion loaded = store.get(request.name(), request.version()).orElse(null);
        Path source = Path.of(request.sourcePath());
        List<Path> files = new ArrayList<>();
        for (String file : request.files()) {
            Path path = source.resolve(file).normalize();
            if (!path.startsWith(source.normalize())) {
                throw new IOException("checkpoint file '" + file + "' lies outside " + source);
            }
            files.add(path);
        }
        if (loaded != null) {
            try {
                loaded = store.complete(request.name(), request.version(), files);
            } catch (IOException e) {
                LOG.warn("checkpoint held, its files unreadable: serving what is held checkpoint={} version={} tensors={} error={}",
                        request.name(), request.version(), loaded.tensors().size(), e.getMessage());
            }
        } else {
            loaded = store.load(request.name(), request.version(), files);
            LOG.info("checkpoint loaded checkpoint={} version={} files={} bytes={}", request.name(), request.version(),
                    files.size(), loaded.bytes());
        }
        return report(request.name(), request.version(), loaded);
    }

    /** What the operator learns of a held version: every tensor with its place in the store's buffers. */
    public static CheckpointLoaded report(String name, String version, CheckpointVersion loaded) {
        List<LoadedTensor> tensors = new ArrayList<>(loaded.tensors().size());
        for (TensorLocation t : loaded.tensors()) {
            tensors.add(new LoadedTensor(t.name(), t.dtype().name(), Arrays.stream(t.shape()).boxed().toList(), t.nbytes(),
                    Integer.toString(t.buffer()), t.offset()));
        }
        return new CheckpointLoaded(name, version, loaded.bytes(), WorkCodec.toTree(tensors));
    }

    /**
     * Checks this node's part of the plan, pins the checkpoint, opens the collective's session and the engine
     * channels, computes the checksums of the buckets this node owns under {@code verify: Checksum}. An engine
     * protocol (or engine type and protocol) this agent cannot serve is refused with
     * {@code EngineProtocolUnsupported} before anything is held.
     */
    public UpdatePrepared prepare(PrepareUpdate request) throws ProtocolException, IOException, EngineException, RequestRefused {
        NodeWork work = WorkCodec.fromTree(request.work(), NodeWork.class);
        if (updates.containsKey(request.updateId())) {
            // Only one operator run prepares an update: a second Prepare comes from a restarted operator, whose
            // predecessor left this one behind.
            abort(new AbortUpdate(request.updateId(), "prepared again by a restarted operator"));
        }
        Map<String, Gpu> byUuid = new HashMap<>();
        backend.gpus().forEach(g -> byUuid.put(g.uuid(), g));
        Map<Integer, Gpu> gpus = new HashMap<>();
        for (NodeWork.Rank rank : work.ranks()) {
            Gpu gpu = byUuid.get(rank.gpuUuid());
            if (gpu == null) {
                throw new IllegalArgumentException("update " + request.updateId() + ": GPU " + rank.gpuUuid()
                        + " is not on this node (it has " + byUuid.keySet() + ")");
            }
            gpus.put(rank.rank(), gpu);
        }
        EngineConnector connector = connector(request.updateId(), work);
        Map<String, EngineTrigger> triggers = triggers(request.updateId(), work, connector.protocol());
        List<WorkerChannel> channels;
        try {
            channels = connector.open(request.updateId(), work.ranks().stream().map(r -> gpus.get(r.rank())).toList());
        } catch (EngineProtocolUnsupportedException e) {
            throw new RequestRefused(ENGINE_PROTOCOL_UNSUPPORTED, e.getMessage(), e);
        }
        List<AutoCloseable> held = new ArrayList<>(channels);
        try {
            boolean ownsBuckets = work.buckets().stream().anyMatch(b -> !b.copies().isEmpty());
            CheckpointPin pin = ownsBuckets ? store.pin(request.checkpoint(), request.version(), request.updateId()) : null;
            if (pin != null) {
                held.add(pin);
            }
            CollectiveFactory.Session mesh = collectives.open(request.updateId(), gpus);
            held.add(mesh);
            NodeUpdate update = new NodeUpdate(request.updateId(), request.version(), work, gpus, pin, mesh, connector, channels,
                    triggers, pipeline);
            NodePrepared prepared = new NodePrepared(new CollectiveAddress(update.collectiveJoinInfo()), update.ownedChecksums());
            updates.put(request.updateId(), update);
            LOG.info("update prepared update={} ranks={} buckets={} instances={} protocol={} checksums={}", request.updateId(),
                    work.ranks().size(), work.buckets().size(), work.instances().size(), work.engineProtocol(), work.checksums());
            return new UpdatePrepared(request.updateId(), WorkCodec.toTree(prepared));
        } catch (IOException | RuntimeException e) {
            held.forEach(UpdateService::closeQuietly);
            throw e;
        }
    }

    private EngineConnector connector(String update, NodeWork work) throws RequestRefused {
        EngineProtocol protocol;
        try {
            protocol = EngineProtocol.fromCr(work.engineProtocol());
        } catch (IllegalArgumentException e) {
            throw new RequestRefused(ENGINE_PROTOCOL_UNSUPPORTED, "update " + update + ": " + e.getMessage(), e);
        }
        EngineConnector connector = connectors.get(protocol);
        if (connector == null) {
            throw new RequestRefused(ENGINE_PROTOCOL_UNSUPPORTED, "update " + update + ": this agent does not serve engine.protocol "
                    + protocol.crName(), null);
        }
        if (work.checksums() && !connector.carriesChecksums()) {
            throw new RequestRefused(ENGINE_PROTOCOL_UNSUPPORTED, "update " + update + ": verify Checksum needs engine.protocol native;"
                    + " the " + protocol.crName() + " protocol carries no checksums", null);
        }
        return connector;
    }

    /** The trigger of each instance this node triggers, by instance name, from the CR's engine fields. */
    private static Map<String, EngineTrigger> triggers(String update, NodeWork work, EngineProtocol protocol) throws RequestRefused {
        Map<String, EngineTrigger> triggers = new HashMap<>();
        for (NodeWork.Instance instance : work.instances()) {
            try {
                triggers.put(instance.name(), EngineTriggers.create(EngineType.fromCr(instance.engineType()), protocol, instance.host(),
                        instance.port(), instance.triggerPath()));
            } catch (IllegalArgumentException e) {
                throw new RequestRefused(ENGINE_PROTOCOL_UNSUPPORTED, "update " + update + ", instance " + instance.name() + ": "
                        + e.getMessage(), e);
            }
        }
        return triggers;
    }

    private static void closeQuietly(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            LOG.warn("closing {} failed: {}", resource, e.getMessage());
        }
    }

    /** Runs a prepared update to its end; progress goes to {@code progress} while it runs. */
    public UpdateResult run(RunUpdate request, Consumer<UpdateProgress> progress) throws ProtocolException {
        RunWork work = WorkCodec.fromTree(request.work(), RunWork.class);
        NodeUpdate update = updates.get(request.updateId());
        if (update == null) {
            throw new IllegalStateException("update " + request.updateId() + " was not prepared on this node (or was aborted)");
        }
        try {
            return update.run(work, progress);
        } finally {
            updates.remove(request.updateId(), update);
            update.close();
        }
    }

    /** Stops the update and waits for it to have stopped; unknown updates are already stopped. */
    public Ack abort(AbortUpdate request) {
        NodeUpdate update = updates.remove(request.updateId());
        if (update != null) {
            LOG.info("aborting update={} reason={}", request.updateId(), request.reason());
            boolean stopped = update.abort(request.reason(), ABORT_WAIT);
            update.close();
            if (!stopped) {
                throw new IllegalStateException("update " + request.updateId() + " did not stop within " + ABORT_WAIT.toSeconds() + " s");
            }
        }
        return new Ack();
    }

    public Ack release(ReleaseCheckpoint request) {
        store.release(request.name(), request.version());
        return new Ack();
    }

    @Override
    public List<HeldCheckpoint> checkpoints() {
        return store.all().stream().map(v -> new HeldCheckpoint(v.name(), v.version(), v.bytes())).toList();
    }

    @Override
    public long storeBytesUsed() {
        return store.bytesInUse();
    }

    @Override
    public long storeBytesLimit() {
        return store.budgetBytes();
    }

    @Override
    public List<String> activeUpdates() {
        return List.copyOf(updates.keySet());
    }

    @Override
    public void close() {
        updates.values().forEach(u -> u.abort("agent shutting down", Duration.ofSeconds(5)));
        updates.values().forEach(NodeUpdate::close);
        updates.clear();
        owned.forEach(UpdateService::closeQuietly);
    }
}
