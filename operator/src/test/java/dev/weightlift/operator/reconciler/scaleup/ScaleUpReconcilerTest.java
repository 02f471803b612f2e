package dev.weightlift.operator.reconciler.scaleup;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.api.v1alpha1.CheckpointSource;
import dev.weightlift.api.v1alpha1.CheckpointSpec;
import dev.weightlift.api.v1alpha1.EngineSpec;
import dev.weightlift.api.v1alpha1.EngineType;
import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.Targets;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateSpec;
import dev.weightlift.api.v1alpha1.WeightUpdateStatus;
import dev.weightlift.operator.WeightliftOperator;
import dev.weightlift.operator.config.OperatorConfig;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionProgress;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionResult;
import dev.weightlift.operator.reconciler.weightupdate.WeightUpdateReconciler;
import dev.weightlift.operator.status.ConditionFactory;
import dev.weightlift.operator.testing.FakeAgents;
import dev.weightlift.operator.testing.FakeEngineProbe;
import dev.weightlift.operator.testing.FakeExecutor;
import dev.weightlift.operator.testing.FakeKubelet;
import dev.weightlift.operator.testing.FakeP2pExecutor;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scale-up end to end in the operator, against the Fabric8 CRUD mock server with the reconciler tests' fakes
 * (kubelet, agents, fleet executor) plus a scale-up executor and engine probe the test drives. Each test has
 * its own namespace and nodes; every fleet is first updated by the fake fleet executor.
 */
@EnableKubernetesMockClient(crud = true)
class ScaleUpReconcilerTest {

    private static final Duration DEADLINE = Duration.ofSeconds(15);
    private static final String CHECKPOINT = "qwen3-8b";
    private static final AtomicInteger NAMESPACES = new AtomicInteger();

    static KubernetesClient client;

    private static final FakeAgents agents = new FakeAgents();
    private static final FakeExecutor fleet = new FakeExecutor();
    private static final FakeP2pExecutor p2p = new FakeP2pExecutor();
    private static final FakeEngineProbe engines = new FakeEngineProbe();
    private static FakeKubelet kubelet;
    private static Operator operator;

    private final String ns = "s" + NAMESPACES.incrementAndGet();

    @BeforeAll
    static void startOperator() {
        kubelet = new FakeKubelet(client);
        ScaleUpConfig config = new ScaleUpConfig(p2p, engines, Duration.ofMillis(200), Duration.ofSeconds(2), Duration.ofSeconds(4));
        operator = WeightliftOperator.create(client, OperatorConfig.fromEnvironment(Map.of()), agents, fleet, config,
                new SimpleMeterRegistry(), Clock.systemUTC());
        operator.start();
    }

    @AfterAll
    static void stopOperator() {
        operator.stop();
        kubelet.close();
    }

    @Test
    void twoPodsThatJoinAreFilledByP2pFromTheHolders() {
        updatedFleet("step-7");

        agents.add(node("c"), Map.of(ns + "/llm-2", List.of("GPU-c0"), ns + "/llm-3", List.of("GPU-c1")));
        pod("llm-2", node("c"));
        pod("llm-3", node("c"));
        WeightUpdate waiting = awaitStatus("step-7", s -> pod(s, "llm-3").map(p -> p.getMessage().startsWith("waiting for the engine")).orElse(false)
                && pod(s, "llm-2").map(p -> p.getState() == PodResult.State.Pending).orElse(false));
        assertEquals(Phase.Succeeded, waiting.getStatus().getPhase());
        assertEquals(new Targets(4, 2, 0), waiting.getStatus().getTargets());
        assertEquals("True", condition(waiting, ConditionFactory.READY).getStatus());
        assertTrue(p2p.started(ns, "llm-2").isEmpty(), "a scale-up started before the engine answered");

        engines.up(ns, "llm-2");
        engines.up(ns, "llm-3");
        FakeP2pExecutor.Started two = awaitScaleUp("llm-2");
        FakeP2pExecutor.Started three = awaitScaleUp("llm-3");
        assertEquals(List.of(node("a"), node("b")), two.request.holders());
        assertFalse(two.request.fromSource());
        assertEquals(List.of("GPU-c0"), two.request.target().gpus());
        assertEquals("step-7", two.request.version());
        WeightUpdate scaling = awaitCondition("step-7", ConditionFactory.PROGRESSING, ScaleUpStatus.SCALING_UP);
        assertEquals("True", condition(scaling, ConditionFactory.PROGRESSING).getStatus());
        assertEquals(Phase.Succeeded, scaling.getStatus().getPhase());
        assertEquals("True", condition(scaling, ConditionFactory.READY).getStatus());
        awaitEvent("step-7", "Normal", "ScaleUpStarted", "pod llm-2 on node " + node("c") + ": version step-7 by P2P from nodes "
                + node("a") + ", " + node("b"));

        two.listener.progress(new ExecutionProgress(Phase.Transferring, 100, 50, 2, 1, 50));
        two.listener.finished(ExecutionResult.succeeded(100, null));
        three.listener.finished(new ExecutionResult(true, "Succeeded", "", Map.of(), 100, null,
                new ExecutionResult.Arrival(List.of(node("b")), 60, 40, 2, 0)));
        WeightUpdate done = awaitStatus("step-7", s -> s.getTargets().getUpdated() == 4);
        assertEquals(new Targets(4, 4, 0), done.getStatus().getTargets());
        assertEquals(Phase.Succeeded, done.getStatus().getPhase());
        Condition progressing = condition(done, ConditionFactory.PROGRESSING);
        assertEquals("False", progressing.getStatus());
        assertEquals("4 of 4 pods hold version step-7", progressing.getMessage());
        assertEquals("4 of 4 pods hold version step-7", condition(done, ConditionFactory.READY).getMessage());
        PodResult filled = pod(done.getStatus(), "llm-2").orElseThrow();
        assertEquals(PodResult.State.Updated, filled.getState());
        assertEquals("step-7", filled.getVersion());
        assertEquals(List.of("GPU-c0"), filled.getGpus());
        assertEquals("filled by P2P from nodes " + node("a") + ", " + node("b"), filled.getMessage());
        assertMarked("llm-2", "step-7");
        assertMarked("llm-3", "step-7");
        String mixed = "filled by P2P from node " + node("b") + " (60 B) and from the checkpoint source "
                + done.getSpec().getCheckpoint().getSource().getPath() + " (40 B of 2 tensors no holder has)";
        assertEquals(mixed, pod(done.getStatus(), "llm-3").orElseThrow().getMessage(), "the result says how, not the request");
        awaitEvent("step-7", "Normal", "ScaleUpSucceeded", "pod llm-3 holds version step-7, " + mixed);
        assertEquals(2, fleet.started(ns, "step-7").targets.size(), "the fleet's update ran again");
        assertEquals(1, p2p.started(ns, "llm-2").size());
    }

    @Test
    void aPodThatArrivesDuringTheBroadcastIsCaughtUpAfterIt() {
        agents.add(node("a"), Map.of());
        pod("llm-0", node("a"));
        create("step-1");
        awaitCondition("step-1", ConditionFactory.PROGRESSING, "WaitingForDataPlane");

        pod("llm-1", node("a"));
        engines.up(ns, "llm-1");
        fleet.started(ns, "step-1").listener.progress(new ExecutionProgress(Phase.Transferring, 100, 10, 10, 1, 10));
        WeightUpdate transferring = awaitStatus("step-1", s -> s.getPhase() == Phase.Transferring);
        assertEquals(1, transferring.getStatus().getTargets().getTotal());
        assertTrue(p2p.started(ns, "llm-1").isEmpty(), "a scale-up started during the Broadcast");

        agents.hold(node("a"), CHECKPOINT, "step-1");
        fleet.started(ns, "step-1").listener.finished(ExecutionResult.succeeded(100, null));
        FakeP2pExecutor.Started caughtUp = awaitScaleUp("llm-1");
        assertEquals(List.of(node("a")), caughtUp.request.holders());
        caughtUp.listener.finished(ExecutionResult.succeeded(100, null));
        WeightUpdate done = awaitStatus("step-1", s -> s.getTargets().getUpdated() == 2);
        assertEquals(Phase.Succeeded, done.getStatus().getPhase());
        assertMarked("llm-1", "step-1");
    }

    @Test
    void withoutHoldersTheNewPodIsFilledFromTheCheckpointSource() {
        updatedFleet("step-3");
        agents.add(node("a"), Map.of());
        agents.add(node("b"), Map.of());

        agents.add(node("c"), Map.of());
        pod("llm-2", node("c"));
        engines.up(ns, "llm-2");
        FakeP2pExecutor.Started started = awaitScaleUp("llm-2");
        assertTrue(started.request.fromSource());
        assertEquals(List.of(), started.request.holders());
        String how = "from the checkpoint source /ckpt/qwen3-8b/step-3 (no node holds version step-3 any more)";
        awaitStatus("step-3", s -> pod(s, "llm-2").map(p -> ("filling " + how).equals(p.getMessage())).orElse(false));
        awaitEvent("step-3", "Normal", "ScaleUpFromSource", "no node holds qwen3-8b@step-3 any more: pod llm-2 is filled from the "
                + "checkpoint source /ckpt/qwen3-8b/step-3");

        started.listener.finished(ExecutionResult.succeeded(100, null));
        WeightUpdate done = awaitStatus("step-3", s -> pod(s, "llm-2").map(p -> p.getState() == PodResult.State.Updated).orElse(false));
        assertEquals("filled " + how, pod(done.getStatus(), "llm-2").orElseThrow().getMessage());
        assertMarked("llm-2", "step-3");
    }

    @Test
    void aFailedScaleUpIsRecordedWithoutTakingReadyAwayAndTriedAgain() {
        updatedFleet("step-4");
        agents.add(node("c"), Map.of());
        pod("llm-2", node("c"));
        engines.up(ns, "llm-2");
        FakeP2pExecutor.Started first = awaitScaleUp("llm-2");

        first.listener.finished(ExecutionResult.failed("TransferError", "reading bucket 3 from node " + node("a") + " failed: connection reset",
                Map.of()));
        WeightUpdate failed = awaitStatus("step-4", s -> s.getTargets().getFailed() == 1);
        PodResult pod = pod(failed.getStatus(), "llm-2").orElseThrow();
        assertEquals(PodResult.State.Failed, pod.getState());
        assertTrue(pod.getMessage().startsWith("TransferError: reading bucket 3 from node " + node("a") + " failed: connection reset (attempt 1,"),
                pod.getMessage());
        assertEquals(Phase.Succeeded, failed.getStatus().getPhase());
        Condition ready = condition(failed, ConditionFactory.READY);
        assertEquals("True", ready.getStatus());
        assertEquals("2 of 3 pods hold version step-4", ready.getMessage());
        Condition degraded = condition(failed, ConditionFactory.DEGRADED);
        assertEquals("True", degraded.getStatus());
        assertEquals(ScaleUpStatus.SCALE_UP_FAILED, degraded.getReason());
        assertTrue(degraded.getMessage().startsWith("scale-up failed for 1 pod: llm-2: TransferError"), degraded.getMessage());
        awaitEvent("step-4", "Warning", "ScaleUpFailed", "pod llm-2: TransferError: reading bucket 3");
        Map<String, String> annotations = client.pods().inNamespace(ns).withName("llm-2").get().getMetadata().getAnnotations();
        assertTrue(annotations == null || !annotations.containsKey(WeightUpdate.VERSION_ANNOTATION), "a failed pod was marked");

        FakeP2pExecutor.Started second = await().atMost(DEADLINE).until(() -> p2p.latest(ns, "llm-2"), s -> s != first);
        second.listener.finished(ExecutionResult.succeeded(100, null));
        WeightUpdate recovered = awaitStatus("step-4", s -> s.getTargets().getUpdated() == 3);
        assertEquals("False", condition(recovered, ConditionFactory.DEGRADED).getStatus());
        assertMarked("llm-2", "step-4");
    }

    @Test
    void aPodDeletedDuringItsScaleUpCancelsIt() {
        updatedFleet("step-5");
        agents.add(node("c"), Map.of());
        pod("llm-2", node("c"));
        engines.up(ns, "llm-2");
        FakeP2pExecutor.Started started = awaitScaleUp("llm-2");
        awaitCondition("step-5", ConditionFactory.PROGRESSING, ScaleUpStatus.SCALING_UP);

        client.pods().inNamespace(ns).withName("llm-2").delete();
        await().atMost(DEADLINE).until(() -> started.cancelled != null);
        assertEquals("the pod was deleted", started.cancelled);
        WeightUpdate after = awaitStatus("step-5", s -> s.getTargets().getTotal() == 2);
        assertEquals("False", condition(after, ConditionFactory.PROGRESSING).getStatus());
        assertEquals(new Targets(2, 2, 0), after.getStatus().getTargets());
        awaitEvent("step-5", "Normal", "ScaleUpCancelled", "pod llm-2: the pod was deleted");

        started.listener.finished(ExecutionResult.succeeded(100, null));
        assertEquals(1, p2p.started(ns, "llm-2").size());
    }

    @Test
    void aNewerUpdateForThePodCancelsItsScaleUp() {
        updatedFleet("step-5");
        agents.add(node("c"), Map.of());
        pod("llm-2", node("c"));
        engines.up(ns, "llm-2");
        FakeP2pExecutor.Started started = awaitScaleUp("llm-2");

        create("step-6");
        await().atMost(DEADLINE).until(() -> started.cancelled != null);
        assertTrue(started.cancelled.startsWith("the WeightUpdate step-6 (version step-6) writes into the pod"), started.cancelled);
        await().atMost(DEADLINE).until(() -> fleet.started(ns, "step-6") != null);
        assertEquals(List.of("llm-0", "llm-1", "llm-2"), fleet.started(ns, "step-6").targets.stream().map(t -> t.pod()).toList());
        awaitStatus("step-5", s -> pod(s, "llm-2").map(p -> p.getState() == PodResult.State.Skipped).orElse(false));
    }

    @Test
    void aPausedUpdateStartsNoScaleUpUntilTheAnnotationGoes() {
        updatedFleet("step-8");
        client.resources(WeightUpdate.class).inNamespace(ns).withName("step-8").edit(u -> {
            u.getMetadata().setAnnotations(Map.of(WeightUpdateReconciler.PAUSED_ANNOTATION, "true"));
            return u;
        });
        agents.add(node("c"), Map.of());
        pod("llm-2", node("c"));
        engines.up(ns, "llm-2");
        awaitStatus("step-8", s -> pod(s, "llm-2").map(p -> p.getMessage().startsWith("not filled while the update is paused")).orElse(false));
        assertTrue(p2p.started(ns, "llm-2").isEmpty(), "a paused update started a scale-up");

        client.resources(WeightUpdate.class).inNamespace(ns).withName("step-8").edit(u -> {
            u.getMetadata().setAnnotations(Map.of());
            return u;
        });
        awaitScaleUp("llm-2");
    }

    /** Pods llm-0 on node a and llm-1 on node b, updated to {@code version} by the fleet executor; both agents hold it. */
    private void updatedFleet(String version) {
        agents.add(node("a"), Map.of(ns + "/llm-0", List.of("GPU-a0")));
        agents.add(node("b"), Map.of(ns + "/llm-1", List.of("GPU-b0")));
        pod("llm-0", node("a"));
        pod("llm-1", node("b"));
        create(version);
        awaitCondition(version, ConditionFactory.PROGRESSING, "WaitingForDataPlane");
        agents.hold(node("a"), CHECKPOINT, version);
        agents.hold(node("b"), CHECKPOINT, version);
        fleet.started(ns, version).listener.finished(ExecutionResult.succeeded(100, null));
        awaitStatus(version, s -> s.getPhase() == Phase.Succeeded);
    }

    private String node(String suffix) {
        return ns + "-" + suffix;
    }

    private FakeP2pExecutor.Started awaitScaleUp(String pod) {
        return await().atMost(DEADLINE).until(() -> p2p.latest(ns, pod), s -> s != null);
    }

    private void assertMarked(String name, String version) {
        Pod pod = client.pods().inNamespace(ns).withName(name).get();
        assertEquals(version, pod.getMetadata().getAnnotations().get(WeightUpdate.VERSION_ANNOTATION));
        assertTrue(pod.getStatus().getConditions().stream().anyMatch(c -> WeightUpdate.WEIGHTS_READY_CONDITION.equals(c.getType())
                && "True".equals(c.getStatus()) && ("holds version " + version).equals(c.getMessage())), name + " lacks the weights-ready condition");
    }

    private static Optional<PodResult> pod(WeightUpdateStatus status, String name) {
        return status.getPods().stream().filter(p -> name.equals(p.getName())).findFirst();
    }

    private WeightUpdate awaitStatus(String name, Predicate<WeightUpdateStatus> predicate) {
        return await().atMost(DEADLINE).until(() -> client.resources(WeightUpdate.class).inNamespace(ns).withName(name).get(),
                u -> u != null && u.getStatus() != null && predicate.test(u.getStatus()));
    }

    private WeightUpdate awaitCondition(String name, String type, String reason) {
        return awaitStatus(name, s -> ConditionFactory.find(s.getConditions(), type).map(c -> reason.equals(c.getReason())).orElse(false));
    }

    private void awaitEvent(String involved, String type, String reason, String messageStart) {
        await().atMost(DEADLINE).until(() -> client.v1().events().inNamespace(ns).list().getItems().stream()
                .anyMatch((Event e) -> involved.equals(e.getInvolvedObject().getName()) && type.equals(e.getType())
                        && reason.equals(e.getReason()) && e.getMessage().startsWith(messageStart)));
    }

    private static Condition condition(WeightUpdate update, String type) {
        return ConditionFactory.find(update.getStatus().getConditions(), type).orElseThrow(() -> new AssertionError("no " + type));
    }

    private void pod(String name, String node) {
        client.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(ns).withLabels(Map.of("app", "llm")).endMetadata()
                .withNewSpec().withNodeName(node).addNewContainer().withName("engine").withImage("vllm").endContainer().endSpec()
                .build()).create();
        await().atMost(DEADLINE).until(() -> client.pods().inNamespace(ns).withName(name).get(),
                p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()));
    }

    private void create(String version) {
        WeightUpdateSpec spec = new WeightUpdateSpec();
        spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", "llm")).build());
        EngineSpec engine = new EngineSpec();
        engine.setType(EngineType.VLLM);
        spec.setEngine(engine);
        CheckpointSpec checkpoint = new CheckpointSpec();
        checkpoint.setName(CHECKPOINT);
        checkpoint.setVersion(version);
        CheckpointSource source = new CheckpointSource();
        source.setPath("/ckpt/" + CHECKPOINT + "/" + version);
        checkpoint.setSource(source);
        spec.setCheckpoint(checkpoint);
        WeightUpdate update = new WeightUpdate();
        update.getMetadata().setName(version);
        update.getMetadata().setNamespace(ns);
        update.setSpec(spec);
        client.resource(update).create();
    }
}
