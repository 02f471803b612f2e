package dev.weightlift.agent.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.weightlift.agent.Await;
import dev.weightlift.operator.hub.AgentException;
import dev.weightlift.operator.hub.AgentHub;
import dev.weightlift.operator.hub.HubConfig;
import dev.weightlift.operator.hub.UpdateListener;
import dev.weightlift.protocol.AbortUpdate;
import dev.weightlift.protocol.Ack;
import dev.weightlift.protocol.AgentState;
import dev.weightlift.protocol.CheckpointLoaded;
import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.EngineInfo;
import dev.weightlift.protocol.GpuInfo;
import dev.weightlift.protocol.HeldCheckpoint;
import dev.weightlift.protocol.LoadCheckpoint;
import dev.weightlift.protocol.NicInfo;
import dev.weightlift.protocol.Register;
import dev.weightlift.protocol.ReleaseCheckpoint;
import dev.weightlift.protocol.RunUpdate;
import dev.weightlift.protocol.TargetOutcome;
import dev.weightlift.protocol.UpdateProgress;
import dev.weightlift.protocol.UpdateResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The control client against the real hub, over CURVE on loopback. */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ControlClientTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final Duration HEARTBEAT = Duration.ofMillis(100);
    private static final Duration TIMEOUT = Duration.ofMillis(600);

    @TempDir
    Path keysDir;
    @TempDir
    Path otherKeysDir;

    private final SimpleMeterRegistry hubMeters = new SimpleMeterRegistry();
    private final SimpleMeterRegistry clientMeters = new SimpleMeterRegistry();
    private final AtomicLong freeMemory = new AtomicLong(70L << 30);
    private final List<AutoCloseable> closeables = new CopyOnWriteArrayList<>();
    private AgentHub hub;

    @BeforeEach
    void startHub() throws Exception {
        CurveKeys.generate(keysDir);
        hub = startHub("tcp://127.0.0.1:*");
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable closeable : closeables) {
            closeable.close();
        }
        hub.close();
    }

    @Test
    void registersHeartbeatsAndAnswersRequests() throws Exception {
        List<String> progress = new CopyOnWriteArrayList<>();
        hub.addUpdateListener(new UpdateListener() {
            @Override
            public void onProgress(String node, String requestId, UpdateProgress event) {
                progress.add(node + ":" + event.bucketsDone() + "/" + event.bucketsTotal());
            }
        });
        ControlClient client = client("node-a", CurveKeys.loadAgent(keysDir));
        client.handle(LoadCheckpoint.class, (request, context) ->
                new CheckpointLoaded(request.name(), request.version(), 1234, JsonNodeFactory.instance.objectNode()));
        client.handle(RunUpdate.class, (request, context) -> {
            for (int bucket = 1; bucket <= 3; bucket++) {
                context.progress(new UpdateProgress(request.updateId(), bucket * 10L, 30, bucket, 3, Map.of()));
            }
            return new UpdateResult(request.updateId(), true,
                    List.of(new TargetOutcome("GPU-node-a-0", "pod-0", true, null)), null, Map.of("transfer", 1L));
        });
        client.handle(ReleaseCheckpoint.class, (request, context) -> {
            throw new IllegalArgumentException("version " + request.version() + " is not held");
        });
        client.start();
        assertTrue(client.awaitRegistrations(1, WAIT));

        var agent = hub.agent("node-a").orElseThrow();
        assertEquals("10.0.0.1", agent.hostAddress());
        assertEquals(List.of("GPU-node-a-0", "GPU-node-a-1"), agent.gpuUuids());
        assertEquals(Map.of("inference/vllm-node-a", List.of("GPU-node-a-0")), agent.gpusByPod());

        freeMemory.set(5L << 30);
        await(() -> hub.agent("node-a").orElseThrow().gpus().get(0).freeMemory() == 5L << 30, "heartbeat state");

        CheckpointLoaded loaded = hub.request("node-a", new LoadCheckpoint("llama", "7", "/ckpt", List.of("a")), WAIT)
                .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(1234, loaded.bytes());

        UpdateResult result = hub.request("node-a", new RunUpdate("ns/u", JsonNodeFactory.instance.objectNode()), WAIT)
                .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertTrue(result.ok());
        assertEquals("node-a:3/3", progress.get(progress.size() - 1), "the last report arrives before the result");

        AgentException failed = failure(hub.request("node-a", new ReleaseCheckpoint("llama", "6"), WAIT));
        assertEquals(AgentException.Reason.FAILED, failed.reason());
        assertTrue(failed.getMessage().contains("node-a") && failed.getMessage().contains("version 6 is not held"),
                failed.getMessage());

        AgentException unhandled = failure(hub.request("node-a", new AbortUpdate("ns/u", "x"),
                WAIT));
        assertTrue(unhandled.getMessage().contains("the agent on node node-a has no handler for AbortUpdate"),
                unhandled.getMessage());
    }

    @Test
    void aFloodOfProgressIsCoalescedAndTheLastReportPrecedesTheResult() throws Exception {
        List<Integer> buckets = new CopyOnWriteArrayList<>();
        List<String> order = new CopyOnWriteArrayList<>();
        hub.addUpdateListener(new UpdateListener() {
            @Override
            public void onProgress(String node, String requestId, UpdateProgress event) {
                buckets.add(event.bucketsDone());
                order.add("progress");
            }

            @Override
            public void onResult(String node, String requestId, UpdateResult result) {
                order.add("result");
            }
        });
        int reports = 50_000;
        ControlClient client = client("node-p", CurveKeys.loadAgent(keysDir));
        client.handle(RunUpdate.class, (request, context) -> {
            for (int bucket = 1; bucket <= reports; bucket++) {
                context.progress(new UpdateProgress(request.updateId(), bucket, reports, bucket, reports, Map.of()));
            }
            return new UpdateResult(request.updateId(), true, List.of(), null, Map.of());
        });
        client.start();
        assertTrue(client.awaitRegistrations(1, WAIT));
        assertTrue(hub.request("node-p", new RunUpdate("ns/u", JsonNodeFactory.instance.objectNode()), WAIT)
                .get(WAIT.toMillis(), TimeUnit.MILLISECONDS).ok());
        await(() -> order.contains("result"), "the result event");
        assertEquals(reports, buckets.get(buckets.size() - 1));
        assertTrue(buckets.size() < 100, buckets.size() + " progress messages for " + reports + " reports");
        assertEquals("result", order.get(order.size() - 1));
        assertEquals(0, rejectedByHub("malformed"));
    }

    @Test
    void reconnectsAndRegistersAgainWhenTheHubRestarts() throws Exception {
        ControlClient client = client("node-r", CurveKeys.loadAgent(keysDir));
        client.handle(ReleaseCheckpoint.class, (request, context) -> new Ack());
        client.start();
        assertTrue(client.awaitRegistrations(1, WAIT));
        int before = client.registrations();
        String endpoint = hub.endpoint();
        hub.close();
        hub = startHub(endpoint);
        assertTrue(client.awaitRegistrations(before + 1, WAIT), "registered again with the restarted hub");
        assertTrue(hub.agent("node-r").isPresent());
        assertInstanceOf(Ack.class, hub.request("node-r", new ReleaseCheckpoint("llama", "6"), WAIT)
                .get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
    }

    @Test
    void reconnectsWhenTheHubIsDownForLongerThanItsTimeout() throws Exception {
        ControlClient client = client("node-l", CurveKeys.loadAgent(keysDir));
        client.start();
        assertTrue(client.awaitRegistrations(1, WAIT));
        int before = client.registrations();
        String endpoint = hub.endpoint();
        hub.close();
        await(() -> !client.isRegistered(), "the client noticing the hub is gone");
        hub = startHub(endpoint);
        assertTrue(client.awaitRegistrations(before + 1, WAIT), "registered again after the outage");
        assertTrue(clientMeters.get("weightlift.agent.control.reconnects").counter().count() >= 1);
    }

    @Test
    void closingTheClientFailsItsPendingRequestsAtOnce() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        ControlClient client = client("node-c", CurveKeys.loadAgent(keysDir));
        client.handle(ReleaseCheckpoint.class, (request, context) -> {
            never.await();
            return new Ack();
        });
        client.start();
        assertTrue(client.awaitRegistrations(1, WAIT));
        CompletableFuture<Ack> pending = hub.request("node-c", new ReleaseCheckpoint("llama", "6"),
                Duration.ofSeconds(30));
        await(() -> clientMeters.find("weightlift.agent.control.messages").tag("type", "ReleaseCheckpoint")
                .counter() != null, "the request reaching the agent");
        long closed = System.nanoTime();
        client.close();
        AgentException error = failure(pending);
        assertEquals(AgentException.Reason.GONE, error.reason());
        assertTrue(error.getMessage().contains("node-c said goodbye"), error.getMessage());
        assertTrue(System.nanoTime() - closed < TIMEOUT.toNanos(), "failed before the heartbeat timeout");
    }

    @Test
    void aClientWithAnotherKeyIsRefused() throws Exception {
        CurveKeys.generate(otherKeysDir);
        CurveKeys.AgentKeys good = CurveKeys.loadAgent(keysDir);
        CurveKeys.AgentKeys other = CurveKeys.loadAgent(otherKeysDir);
        ControlClient client = client("node-x", new CurveKeys.AgentKeys(good.serverPublic(), other.agentPublic(),
                other.agentSecret()));
        client.start();
        await(() -> rejectedByHub("unauthorized") >= 1, "the hub refusing the key");
        assertFalse(client.awaitRegistrations(1, Duration.ofMillis(300)));
        assertTrue(hub.agents().isEmpty());
    }

    private double rejectedByHub(String reason) {
        var counter = hubMeters.find("weightlift.hub.rejected").tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    private AgentHub startHub(String endpoint) throws Exception {
        return AgentHub.start(HubConfig.of(endpoint, CurveKeys.loadHub(keysDir)).withTimings(HEARTBEAT, TIMEOUT),
                hubMeters);
    }

    private ControlClient client(String node, CurveKeys.AgentKeys keys) throws Exception {
        ClientConfig config = ClientConfig.of(node, hub.endpoint(), keys)
                .withTimings(TIMEOUT, Duration.ofMillis(50), Duration.ofMillis(200));
        ControlClient client = new ControlClient(config, report(node), clientMeters);
        closeables.add(client);
        return client;
    }

    private AgentReport report(String node) {
        return new AgentReport() {
            @Override
            public Register registration() {
                AgentState state = state();
                return new Register(node, "session-1", "host", "10.0.0.1", 7200, "/run/weightlift", state.gpus(),
                        List.of(new NicInfo("lo", "127.0.0.1", 0)), state);
            }

            @Override
            public AgentState state() {
                return new AgentState(List.of(new GpuInfo(0, "GPU-" + node + "-0", 80L << 30, freeMemory.get()),
                        new GpuInfo(1, "GPU-" + node + "-1", 80L << 30, freeMemory.get())),
                        List.of(new HeldCheckpoint("llama", "5", 10)),
                        List.of(new EngineInfo("inference", "vllm-" + node, List.of("GPU-" + node + "-0"))), List.of(),
                        10, 1L << 30);
            }
        };
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

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Await.until(condition, WAIT, what);
    }
}
