package dev.weightlift.agent;

import dev.weightlift.agent.control.AgentReport;
import dev.weightlift.agent.control.ClientConfig;
import dev.weightlift.agent.control.ControlClient;
import dev.weightlift.agent.device.DeviceBackend;
import dev.weightlift.agent.device.host.HostBackend;
import dev.weightlift.agent.device.host.HostBackendConfig;
import dev.weightlift.agent.engine.nativeprotocol.ChannelServerConfig;
import dev.weightlift.agent.engine.nativeprotocol.EngineChannelServer;
import dev.weightlift.agent.pipeline.NodePipeline;
import dev.weightlift.agent.pipeline.PipelineMetrics;
import dev.weightlift.agent.store.HostStore;
import dev.weightlift.agent.update.CollectiveFactory;
import dev.weightlift.agent.update.UpdateService;
import dev.weightlift.protocol.AbortUpdate;
import dev.weightlift.protocol.AgentState;
import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.GpuInfo;
import dev.weightlift.protocol.LoadCheckpoint;
import dev.weightlift.protocol.PrepareUpdate;
import dev.weightlift.protocol.Register;
import dev.weightlift.protocol.ReleaseCheckpoint;
import dev.weightlift.protocol.RunUpdate;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent process (runtime contract in the chart): the device backend, the host store, the engine socket,
 * the node pipeline, and the control client that serves the operator's requests with {@link UpdateService}.
 */
public final class AgentMain {

    private static final Logger LOG = LoggerFactory.getLogger(AgentMain.class);

    private AgentMain() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> env = System.getenv();
        String node = required(env, "NODE_NAME");
        String hostIp = env.getOrDefault("HOST_IP", "127.0.0.1");
        String backendName = env.getOrDefault("WEIGHTLIFT_BACKEND", "cuda");
        if (!backendName.equals("host")) {
            throw new IllegalArgumentException("WEIGHTLIFT_BACKEND=" + backendName + ": this build of the agent runs the host backend only");
        }
        int p2pPort = Integer.parseInt(env.getOrDefault("WEIGHTLIFT_P2P_PORT", "7200"));
        Path socketDir = Path.of(env.getOrDefault("WEIGHTLIFT_SOCKET_DIR", "/run/weightlift"));
        Files.createDirectories(socketDir);
        MeterRegistry registry = new SimpleMeterRegistry();

        DeviceBackend backend = new HostBackend(HostBackendConfig.fromEnvironment(env));
        HostStore store = new HostStore(backend.hostAllocator());
        EngineChannelServer engines = EngineChannelServer.start(ChannelServerConfig.fromEnv(env));
        NodePipeline pipeline = new NodePipeline(new PipelineMetrics(registry));
        UpdateService updates = new UpdateService(backend, store, engines, pipeline, CollectiveFactory.tcpMesh("0.0.0.0", hostIp));
        String session = UUID.randomUUID().toString();
        AgentReport report = new AgentReport() {
            @Override
            public Register registration() {
                AgentState state = state();
                return new Register(node, session, backend.name(), hostIp, p2pPort, socketDir.toString(), state.gpus(), List.of(), state);
            }

            @Override
            public AgentState state() {
                return new AgentState(gpus(backend), updates.held(), updates.activeUpdates(), store.bytesInUse(), store.budgetBytes());
            }
        };
        CurveKeys.AgentKeys keys = CurveKeys.loadAgent(Path.of(env.getOrDefault("WEIGHTLIFT_CURVE_DIR", "/etc/weightlift/curve")));
        ControlClient client = new ControlClient(ClientConfig.of(node, required(env, "WEIGHTLIFT_HUB_ENDPOINT"), keys), report, registry)
                .handle(LoadCheckpoint.class, (request, context) -> updates.load(request))
                .handle(PrepareUpdate.class, (request, context) -> updates.prepare(request))
                .handle(RunUpdate.class, (request, context) -> updates.run(request, context::progress))
                .handle(AbortUpdate.class, (request, context) -> updates.abort(request))
                .handle(ReleaseCheckpoint.class, (request, context) -> updates.release(request));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("shutting down node={}", node);
            client.close();
            updates.close();
            pipeline.close();
            engines.close();
            store.close();
            backend.close();
            stopped.countDown();
        }, "shutdown"));
        client.start();
        LOG.info("started node={} backend={} gpus={} engineEndpoint={} hostIp={}", node, backend.name(), backend.gpus().size(),
                engines.endpoint(), hostIp);
        stopped.await();
    }

    private static List<GpuInfo> gpus(DeviceBackend backend) {
        return backend.gpus().stream().map(g -> new GpuInfo(g.index(), g.uuid(), g.totalMemory(), g.freeMemory())).toList();
    }

    private static String required(Map<String, String> env, String key) {
        String value = env.get(key);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(key + " is not set");
        }
        return value;
    }
}
