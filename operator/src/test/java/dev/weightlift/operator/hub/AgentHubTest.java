package dev.weightlift.operator.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.weightlift.operator.config.OperatorConfig;
import dev.weightlift.protocol.Ack;
import dev.weightlift.protocol.CheckpointLoaded;
import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.Failure;
import dev.weightlift.protocol.Goodbye;
import dev.weightlift.protocol.Heartbeat;
import dev.weightlift.protocol.LoadCheckpoint;
import dev.weightlift.protocol.NotRegistered;
import dev.weightlift.protocol.Register;
import dev.weightlift.protocol.Registered;
import dev.weightlift.protocol.ReleaseCheckpoint;
import dev.weightlift.protocol.RunUpdate;
import dev.weightlift.protocol.TargetOutcome;
import dev.weightlift.protocol.UpdateProgress;
import dev.weightlift.protocol.UpdateResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AgentHubTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final Duration HEARTBEAT = Duration.ofMillis(100);
    private static final Duration AGENT_TIMEOUT = Duration.ofMillis(600);

    @TempDir
    Path keysDir;
    @TempDir
    Path otherKeysDir;

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private AgentHub hub;
    private CurveKeys.AgentKeys agentKeys;

    @BeforeEach
    void startHub() throws Exception {
        CurveKeys.generate(keysDir);
        agentKeys = CurveKeys.loadAgent(keysDir);
        hub = AgentHub.start(HubConfig.of("tcp://127.0.0.1:*", CurveKeys.loadHub(keysDir))
                .withTimings(HEARTBEAT, AGENT_TIMEOUT), meters);
    }

    @AfterEach
    void closeHub() {
        hub.close();
    }

    @Test
    void registersAnAgentAndTracksItsHeartbeats() {
        List<AgentDirectory.Change> changes = new CopyOnWriteArrayList<>();
        hub.addChangeListener(changes::add);
        try (FakeAgent agent = registered("node-a", "s1")) {
            AgentInfo info = hub.agent("node-a").orElseThrow();
            assertEquals("host", info.backend());
            assertEquals(List.of("GPU-0-of-x", "GPU-1-of-x"), info.gpuUuids());
            assertEquals(Map.of("inference/vllm-0", List.of("GPU-0-of-x", "GPU-1-of-x")), info.gpusByPod());
            await(() -> changes.size() == 1, "JOINED change");
            assertEquals(AgentDirectory.ChangeKind.JOINED, changes.get(0).kind());

            agent.send("hb", new Heartbeat(FakeAgent.state(12345)));
            await(() -> hub.agent("node-a").orElseThrow().gpus().get(0).freeMemory() == 12345, "heartbeat state");
            agent.receive(Heartbeat.class, WAIT);
            assertEquals(1.0, meters.get("weightlift.hub.agents.connected").gauge().value());
        }
    }

    @Test
    void requestsRoundTripAndReportProgress() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        hub.addUpdateListener(new UpdateListener() {
            @Override
            public void onProgress(String node, String requestId, UpdateProgress progress) {
                events.add(node + " progress " + progress.bucketsDone());
            }

            @Override
            public void onResult(String node, String requestId, UpdateResult result) {
                events.add(node + " result " + result.ok());
            }
        });
        try (FakeAgent agent = registered("node-a", "s1")) {
            CompletableFuture<CheckpointLoaded> loaded = hub.request("node-a",
                    new LoadCheckpoint("llama", "7", "/ckpt", List.of("a.safetensors")), WAIT);
            FakeAgent.Received<LoadCheckpoint> load = agent.receive(LoadCheckpoint.class, WAIT);
            assertEquals(List.of("a.safetensors"), load.message().files());
            agent.send(load.id(), new CheckpointLoaded("llama", "7", 42, JsonNodeFactory.instance.objectNode()));
            assertEquals(42, loaded.get(WAIT.toMillis(), TimeUnit.MILLISECONDS).bytes());

            CompletableFuture<UpdateResult> run = hub.request("node-a",
                    new RunUpdate("ns/u1", JsonNodeFactory.instance.objectNode()), WAIT);
            FakeAgent.Received<RunUpdate> runRequest = agent.receive(RunUpdate.class, WAIT);
            agent.send(runRequest.id(), new UpdateProgress("ns/u1", 10, 20, 1, 2, Map.of("h2d", 3L)));
            agent.send(runRequest.id(), new UpdateProgress("ns/u1", 20, 20, 2, 2, Map.of("h2d", 5L)));
            agent.send(runRequest.id(), new UpdateResult("ns/u1", true,
                    List.of(new TargetOutcome("GPU-0-of-x", "pod-0", true, null)), null, Map.of()));
            assertTrue(run.get(WAIT.toMillis(), TimeUnit.MILLISECONDS).ok());
            await(() -> events.size() == 3, "progress and result events");
            assertEquals(List.of("node-a progress 1", "node-a progress 2", "node-a result true"), events);
            assertEquals(2L, meters.get("weightlift.hub.request.duration").tag("outcome", "ok").timers().stream()
                    .mapToLong(t -> t.count()).sum());
        }
    }

    @Test
    void anAgentFailureFailsTheRequestWithItsText() {
        try (FakeAgent agent = registered("node-a", "s1")) {
            CompletableFuture<Ack> release = hub.request("node-a", new ReleaseCheckpoint("llama", "6"), WAIT);
            FakeAgent.Received<ReleaseCheckpoint> request = agent.receive(ReleaseCheckpoint.class, WAIT);
            agent.send(request.id(), new Failure("version 6 is pinned"));
            AgentException error = failure(release);
            assertEquals(AgentException.Reason.FAILED, error.reason());
            assertTrue(error.getMessage().contains("node-a") && error.getMessage().contains("version 6 is pinned"),
                    error.getMessage());
        }
    }

    @Test
    void unansweredRequestsFailAtTheirDeadline() {
        try (FakeAgent agent = registered("node-a", "s1")) {
            CompletableFuture<Ack> release = hub.request("node-a", new ReleaseCheckpoint("llama", "6"),
                    Duration.ofMillis(200));
            agent.receive(ReleaseCheckpoint.class, WAIT);
            AgentException error = failure(release);
            assertEquals(AgentException.Reason.TIMEOUT, error.reason());
            assertTrue(error.getMessage().contains("node-a did not answer ReleaseCheckpoint"), error.getMessage());
        }
    }

    @Test
    void requestsToUnknownNodesFailAtOnce() {
        AgentException error = failure(hub.request("node-x", new ReleaseCheckpoint("llama", "6"), WAIT));
        assertEquals(AgentException.Reason.NOT_CONNECTED, error.reason());
        assertTrue(error.getMessage().contains("node node-x"), error.getMessage());
    }

    @Test
    void anAgentThatDiesFailsItsPendingRequestsFast() {
        List<AgentDirectory.Change> changes = new CopyOnWriteArrayList<>();
        hub.addChangeListener(changes::add);
        FakeAgent agent = registered("node-d", "s1");
        CompletableFuture<Ack> release = hub.request("node-d", new ReleaseCheckpoint("llama", "6"),
                Duration.ofSeconds(30));
        agent.receive(ReleaseCheckpoint.class, WAIT);
        long closed = System.nanoTime();
        agent.close();
        AgentException error = failure(release);
        long millis = (System.nanoTime() - closed) / 1_000_000;
        assertEquals(AgentException.Reason.GONE, error.reason());
        assertTrue(error.getMessage().contains("node-d missed heartbeats"), error.getMessage());
        assertTrue(millis < AGENT_TIMEOUT.toMillis() + 1000, "failed after " + millis + " ms");
        assertTrue(hub.agent("node-d").isEmpty());
        await(() -> changes.stream().anyMatch(c -> c.kind() == AgentDirectory.ChangeKind.GONE), "GONE change");
    }

    @Test
    void goodbyeAndRestartFailPendingRequestsAtOnce() {
        try (FakeAgent agent = registered("node-g", "s1")) {
            CompletableFuture<Ack> first = hub.request("node-g", new ReleaseCheckpoint("llama", "6"), WAIT);
            agent.receive(ReleaseCheckpoint.class, WAIT);
            agent.send("r", agent.registration("s2"));
            agent.receive(Registered.class, WAIT);
            assertTrue(failure(first).getMessage().contains("the agent on node node-g restarted"));

            CompletableFuture<Ack> second = hub.request("node-g", new ReleaseCheckpoint("llama", "6"), WAIT);
            agent.receive(ReleaseCheckpoint.class, WAIT);
            agent.send("bye", new Goodbye("shutting down"));
            AgentException error = failure(second);
            assertEquals(AgentException.Reason.GONE, error.reason());
            assertTrue(error.getMessage().contains("node-g said goodbye: shutting down"), error.getMessage());
        }
    }

    @Test
    void malformedFramesAreRejectedAndTheHubKeepsWorking() throws Exception {
        try (FakeAgent agent = registered("node-m", "s1")) {
            agent.sendRaw("not json".getBytes(StandardCharsets.UTF_8));
            agent.sendRaw("{\"v\":9,\"type\":\"Heartbeat\",\"id\":\"x\",\"body\":{}}".getBytes(StandardCharsets.UTF_8));
            agent.sendRaw("{\"v\":1,\"type\":\"Boom\",\"id\":\"x\",\"body\":{}}".getBytes(StandardCharsets.UTF_8));
            agent.send("odd", new LoadCheckpoint("a", "b", "c", List.of()));
            await(() -> counter("malformed") == 3 && counter("unexpected") == 1, "rejections counted");
            CompletableFuture<Ack> release = hub.request("node-m", new ReleaseCheckpoint("llama", "6"), WAIT);
            agent.send(agent.receive(ReleaseCheckpoint.class, WAIT).id(), new Ack());
            assertInstanceOf(Ack.class, release.get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void messagesFromUnregisteredNodesAreAnsweredWithNotRegistered() {
        try (FakeAgent agent = new FakeAgent("node-u", hub.endpoint(), agentKeys)) {
            agent.send("hb", new Heartbeat(FakeAgent.state(1)));
            agent.receive(NotRegistered.class, WAIT);
            Register own = agent.registration("s1");
            agent.send("r", new Register("node-v", own.session(), own.backend(), own.hostAddress(), own.p2pPort(),
                    own.engineSocketDir(), own.gpus(), own.nics(), own.state()));
            assertTrue(agent.receive(NotRegistered.class, WAIT).message().reason().contains("identity node-u"));
            assertTrue(hub.agents().isEmpty());
        }
    }

    @Test
    void connectionsWithAnotherKeyAreRefused() throws Exception {
        CurveKeys.generate(otherKeysDir);
        CurveKeys.AgentKeys other = CurveKeys.loadAgent(otherKeysDir);
        CurveKeys.AgentKeys wrongClientKey = new CurveKeys.AgentKeys(agentKeys.serverPublic(), other.agentPublic(),
                other.agentSecret());
        try (FakeAgent rogue = new FakeAgent("node-r", hub.endpoint(), wrongClientKey)) {
            rogue.trySend(rogue.encode(rogue.registration("s1")));
            await(() -> counter("unauthorized") >= 1, "the wrong key refused by ZAP");
            rogue.awaitDisconnected(WAIT);
            try (FakeAgent good = registered("node-ok", "s1")) {
                assertEquals(List.of(good.node), hub.agents().stream().map(AgentInfo::node).toList());
            }
        }
    }

    @Test
    void plainConnectionsAreRefused() {
        try (FakeAgent plain = new FakeAgent("node-p", hub.endpoint(), null)) {
            plain.trySend(plain.encode(plain.registration("s1")));
            plain.awaitDisconnected(WAIT);
            try (FakeAgent good = registered("node-ok", "s1")) {
                assertEquals(List.of(good.node), hub.agents().stream().map(AgentInfo::node).toList());
            }
        }
    }

    @Test
    void aSecondHubOnTheSameEndpointFailsWithTheEndpointNamed() throws Exception {
        IOException e = assertThrows(IOException.class,
                () -> AgentHub.start(HubConfig.of(hub.endpoint(), CurveKeys.loadHub(keysDir)), meters));
        assertTrue(e.getMessage().contains("cannot bind the agent hub at " + hub.endpoint()), e.getMessage());
        try (FakeAgent agent = registered("node-a", "s1")) {
            assertTrue(hub.agent(agent.node).isPresent(), "the first hub still serves");
        }
    }

    @Test
    void configurationComesFromTheOperatorConfiguration() throws Exception {
        HubConfig config = HubConfig.of(OperatorConfig.fromEnvironment(Map.of("WEIGHTLIFT_CURVE_DIR", keysDir.toString())));
        assertEquals("tcp://*:7100", config.bindEndpoint());
        assertArrayEquals(agentKeys.agentPublic(), config.keys().agentPublic());
        IOException missing = assertThrows(IOException.class, () -> HubConfig.of(
                OperatorConfig.fromEnvironment(Map.of("WEIGHTLIFT_CURVE_DIR", otherKeysDir.toString()))));
        assertTrue(missing.getMessage().contains("server.public is missing"), missing.getMessage());
    }

    private FakeAgent registered(String node, String session) {
        FakeAgent agent = new FakeAgent(node, hub.endpoint(), agentKeys);
        agent.send("reg-1", agent.registration(session));
        FakeAgent.Received<Registered> registered = agent.receive(Registered.class, WAIT);
        assertEquals("reg-1", registered.id());
        assertEquals(HEARTBEAT.toMillis(), registered.message().heartbeatMillis());
        assertFalse(hub.agent(node).isEmpty());
        return agent;
    }

    private double counter(String reason) {
        var counter = meters.find("weightlift.hub.rejected").tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    private static AgentException failure(CompletableFuture<?> future) {
        try {
            future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return assertInstanceOf(AgentException.class, e.getCause());
        } catch (Exception e) {
            throw new AssertionError("request neither completed nor failed within " + WAIT, e);
        }
        throw new AssertionError("request succeeded, expected a failure");
    }

    static void await(BooleanSupplier condition, String what) {
        long end = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("no " + what + " within " + WAIT);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
