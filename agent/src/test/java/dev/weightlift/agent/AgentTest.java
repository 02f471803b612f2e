package dev.weightlift.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.weightlift.operator.hub.AgentDirectory;
import dev.weightlift.operator.hub.AgentHub;
import dev.weightlift.operator.hub.AgentInfo;
import dev.weightlift.operator.hub.HubConfig;
import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.GpuInfo;
import dev.weightlift.protocol.HeldCheckpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The agent's composition: what it registers with a real hub, its heartbeats, its HTTP endpoints. */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AgentTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    @TempDir
    Path keysDir;

    @Test
    void registersItsNodeAndReportsWhatItHolds() throws Exception {
        CurveKeys.generate(keysDir);
        HubConfig hubConfig = HubConfig.of("tcp://127.0.0.1:*", CurveKeys.loadHub(keysDir))
                .withTimings(Duration.ofMillis(100), Duration.ofSeconds(2));
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (AgentHub hub = AgentHub.start(hubConfig, new SimpleMeterRegistry())) {
            List<AgentDirectory.Change> changes = new CopyOnWriteArrayList<>();
            hub.addChangeListener(changes::add);
            AgentEnvironment environment = AgentEnvironment.from(environment(hub.endpoint()));
            try (Agent agent = Agent.create(environment, new FakeBackend("node-7", 2, 70L << 30), meters);
                 AgentHttpServer http = AgentHttpServer.start(0, meters)) {
                agent.start();
                assertTrue(agent.control().awaitRegistrations(1, WAIT));
                AgentInfo info = hub.agent("node-7").orElseThrow();
                assertEquals("10.9.8.7", info.hostAddress());
                assertEquals(7201, info.p2pPort());
                assertEquals("/tmp/weightlift-sockets", info.engineSocketDir());
                assertEquals(agent.session(), info.registration().session());
                assertEquals(List.of("GPU-node-7-0", "GPU-node-7-1"), info.gpus().stream().map(GpuInfo::uuid).toList());

                agent.statusSources(new StatusSources() {
                    @Override
                    public List<HeldCheckpoint> checkpoints() {
                        return List.of(new HeldCheckpoint("llama", "7", 1L << 30));
                    }
                });
                Await.until(() -> hub.agent("node-7").orElseThrow().holds("llama", "7"), WAIT, "held checkpoint");
                Await.until(() -> changes.stream().anyMatch(c -> c.kind() == AgentDirectory.ChangeKind.UPDATED),
                        WAIT, "UPDATED change");

                HttpClient client = HttpClient.newHttpClient();
                String base = "http://127.0.0.1:" + http.port();
                assertEquals("ok\n", client.send(HttpRequest.newBuilder(URI.create(base + "/livez")).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
                String metrics = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(metrics.contains("weightlift_agent_control_connected 1.0"), metrics);
            }
        }
    }

    @Test
    void aBackendMissingFromTheBuildIsNamed() {
        Map<String, String> env = environment("tcp://127.0.0.1:1");
        env.put("WEIGHTLIFT_BACKEND", "host");
        assumeTrue(ServiceLoader.load(BackendProvider.class).stream().noneMatch(p -> p.get().name().equals("host")),
                "the host backend is in this build (the cuda one is: CudaBackendTest covers its provider)");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> AgentMain.openBackend(AgentEnvironment.from(env)));
        assertTrue(e.getMessage().contains("WEIGHTLIFT_BACKEND='host' is not available in this build"), e.getMessage());
    }

    private Map<String, String> environment(String hubEndpoint) {
        Map<String, String> env = new HashMap<>();
        env.put("NODE_NAME", "node-7");
        env.put("HOST_IP", "10.9.8.7");
        env.put("WEIGHTLIFT_HUB_ENDPOINT", hubEndpoint);
        env.put("WEIGHTLIFT_CURVE_DIR", keysDir.toString());
        env.put("WEIGHTLIFT_BACKEND", "host");
        env.put("WEIGHTLIFT_SOCKET_DIR", "/tmp/weightlift-sockets");
        env.put("WEIGHTLIFT_P2P_PORT", "7201");
        return env;
    }
}
