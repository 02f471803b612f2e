package dev.weightlift.operator.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.api.v1alpha1.CheckpointSource;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.hub.AgentHub;
import dev.weightlift.operator.hub.FakeAgent;
import dev.weightlift.operator.hub.HubConfig;
import dev.weightlift.operator.reconciler.scaleup.ScaleUpRequest;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionListener;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionProgress;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionResult;
import dev.weightlift.operator.reconciler.weightupdate.Target;
import dev.weightlift.operator.reconciler.weightupdate.UpdateExecutor;
import dev.weightlift.protocol.AbortUpdate;
import dev.weightlift.protocol.Ack;
import dev.weightlift.protocol.CheckpointExposed;
import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.ExposeCheckpoint;
import dev.weightlift.protocol.FetchCheckpoint;
import dev.weightlift.protocol.Registered;
import dev.weightlift.protocol.broadcast.FetchWork;
import dev.weightlift.protocol.broadcast.LoadedTensor;
import dev.weightlift.protocol.broadcast.WorkCodec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A scale-up's P2P fill against agents speaking the real protocol through the real hub. */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class P2pFillTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private AgentHub hub;
    private CurveKeys.AgentKeys keys;

    @BeforeEach
    void startHub() throws IOException {
        CurveKeys.generate(dir.resolve("keys"));
        keys = CurveKeys.loadAgent(dir.resolve("keys"));
        hub = AgentHub.start(HubConfig.of("tcp://127.0.0.1:*", CurveKeys.loadHub(dir.resolve("keys"))), new SimpleMeterRegistry());
    }

    @AfterEach
    void closeHub() {
        hub.close();
    }

    @Test
    void cancellingTheScaleUpAbortsTheFetchInFlightOnThePodsNode() throws Exception {
        Path checkpoint = Files.createDirectories(dir.resolve("ckpt"));
        writeSafetensors(checkpoint.resolve("model.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}");
        WeightUpdate update = BroadcastPlannerTest.update();
        update.getMetadata().setGeneration(3L);
        update.getSpec().getEngine().setGpusPerInstance(1);
        update.getSpec().setTimeoutSeconds(60);
        CheckpointSource source = new CheckpointSource();
        source.setPath(checkpoint.toString());
        update.getSpec().getCheckpoint().setSource(source);
        CompletableFuture<ExecutionResult> finished = new CompletableFuture<>();

        try (FakeAgent holder = registered("node-h"); FakeAgent target = registered("node-t");
                BroadcastExecutor executor = new BroadcastExecutor(() -> hub, BroadcastExecutor.Deadlines.defaults(), new SimpleMeterRegistry())) {
            UpdateExecutor.Execution execution = executor.start(new ScaleUpRequest(update,
                    new Target("ns", "llm-9", "uid-9", "node-t", "10.0.0.9", List.of("GPU-0-of-x")), List.of("node-h")), listener(finished));
            FakeAgent.Received<ExposeCheckpoint> expose = holder.receive(ExposeCheckpoint.class, WAIT);
            holder.send(expose.id(), new CheckpointExposed("tiny", "v1", "10.0.0.8", 7200, List.of("AAAA"),
                    WorkCodec.toTree(List.of(new LoadedTensor("w", "F32", List.of(4L), 16, "0", 0)))));
            FakeAgent.Received<FetchCheckpoint> fetch = target.receive(FetchCheckpoint.class, WAIT);
            assertEquals("ns/u/g3/scale-up/llm-9", fetch.message().updateId());
            FetchWork work = WorkCodec.fromTree(fetch.message().work(), FetchWork.class);
            assertEquals(List.of("node-h"), work.sources().stream().map(FetchWork.Source::node).toList());

            execution.cancel("the pod was deleted");

            FakeAgent.Received<AbortUpdate> abort = target.receive(AbortUpdate.class, WAIT);
            assertEquals(fetch.message().updateId(), abort.message().updateId());
            target.send(abort.id(), new Ack());
            ExecutionResult result = finished.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertEquals("Cancelled", result.reason());
            assertTrue(result.message().contains("the pod was deleted"), result.message());
        }
    }

    private FakeAgent registered(String node) {
        FakeAgent agent = new FakeAgent(node, hub.endpoint(), keys);
        agent.send("reg-" + node, agent.registration("s1"));
        agent.receive(Registered.class, WAIT);
        return agent;
    }

    private static ExecutionListener listener(CompletableFuture<ExecutionResult> finished) {
        return new ExecutionListener() {
            @Override
            public void progress(ExecutionProgress progress) {
            }

            @Override
            public void finished(ExecutionResult result) {
                finished.complete(result);
            }
        };
    }

    private static void writeSafetensors(Path file, String header) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(8 + json.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(json.length).put(json);
        Files.write(file, buffer.array());
    }
}
