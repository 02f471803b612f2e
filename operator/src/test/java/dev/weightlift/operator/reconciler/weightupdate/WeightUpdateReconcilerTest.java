package dev.weightlift.operator.reconciler.weightupdate;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.api.v1alpha1.CheckpointSource;
import dev.weightlift.api.v1alpha1.CheckpointSpec;
import dev.weightlift.api.v1alpha1.EngineSpec;
import dev.weightlift.api.v1alpha1.EngineType;
import dev.weightlift.api.v1alpha1.GroupingSpec;
import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.Timings;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateSpec;
import dev.weightlift.api.v1alpha1.WeightUpdateStatus;
import dev.weightlift.operator.WeightliftOperator;
import dev.weightlift.operator.config.OperatorConfig;
import dev.weightlift.operator.ops.OpsServer;
import dev.weightlift.operator.reconciler.scaleup.P2pExecutor;
import dev.weightlift.operator.reconciler.scaleup.ScaleUpConfig;
import dev.weightlift.operator.status.ConditionFactory;
import dev.weightlift.operator.testing.FakeAgents;
import dev.weightlift.operator.testing.FakeExecutor;
import dev.weightlift.operator.testing.FakeKubelet;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator in-process against the Fabric8 CRUD mock server, with a fake kubelet (pods become Running with
 * ready containers), fake agents and an executor the test drives. Each test has its own namespace and nodes.
 */
@EnableKubernetesMockClient(crud = true)
class WeightUpdateReconcilerTest {

    private static final Duration DEADLINE = Duration.ofSeconds(15);
    private static final AtomicInteger NAMESPACES = new AtomicInteger();

    static KubernetesClient client;

    private static final FakeAgents agents = new FakeAgents();
    private static final FakeExecutor executor = new FakeExecutor();
    private static final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private static FakeKubelet kubelet;
    private static Operator operator;
    private static OpsServer ops;

    private final String ns = "t" + NAMESPACES.incrementAndGet();

    @BeforeAll
    static void startOperator() throws Exception {
        kubelet = new FakeKubelet(client);
        operator = WeightliftOperator.create(client, OperatorConfig.fromEnvironment(Map.of()), agents, executor,
                ScaleUpConfig.defaults(P2pExecutor.UNAVAILABLE), registry, Clock.systemUTC());
        operator.start();
        ops = new OpsServer(0, registry, () -> WeightliftOperator.readiness(operator));
    }

    @AfterAll
    static void stopOperator() {
        ops.close();
        operator.stop();
        kubelet.close();
    }

    @Test
    void invalidSpecFailsWithInvalidSpecAndAWarning() {
        WeightUpdateSpec spec = spec("step-1");
        GroupingSpec grouping = new GroupingSpec();
        grouping.setPattern("layers\\.(\\d+");
        spec.setGrouping(grouping);
        spec.setBucketSize("2GB");
        create("bad", spec);

        WeightUpdate update = awaitStatus("bad", s -> s.getPhase() == Phase.Failed);
        Condition ready = condition(update, ConditionFactory.READY);
        assertEquals("False", ready.getStatus());
        assertEquals("InvalidSpec", ready.getReason());
        assertTrue(ready.getMessage().contains("spec.grouping.pattern: does not compile: Unclosed group"), ready.getMessage());
        assertTrue(ready.getMessage().contains("spec.bucketSize '2GB' is not a positive size"), ready.getMessage());
        assertEquals("True", condition(update, ConditionFactory.DEGRADED).getStatus());
        assertEquals(1L, update.getStatus().getObservedGeneration());
        awaitEvent("bad", "Warning", "InvalidSpec");
        assertNull(executor.started(ns, "bad"));
    }

    @Test
    void noMatchingPodsThenAPodArrives() {
        agents.add(ns + "-a", Map.of(ns + "/llm-0", List.of("GPU-0")));
        create("step-1", spec("step-1"));

        WeightUpdate update = awaitCondition("step-1", ConditionFactory.READY, "NoMatchingPods");
        assertEquals("no pod in namespace " + ns + " matches selector app=llm", condition(update, ConditionFactory.READY).getMessage());
        assertEquals(Phase.Pending, update.getStatus().getPhase());
        awaitEvent("step-1", "Warning", "NoMatchingPods");

        pod("llm-0", ns + "-a", Map.of());
        awaitCondition("step-1", ConditionFactory.PROGRESSING, "WaitingForDataPlane");
        assertEquals(List.of("GPU-0"), executor.started(ns, "step-1").targets.get(0).gpus());
    }

    @Test
    void podsThatAreNotRunningAreWaitedFor() {
        agents.add(ns + "-a", Map.of());
        pod("llm-0", ns + "-a", Map.of(FakeKubelet.STUCK_LABEL, "true"));
        create("step-1", spec("step-1"));

        WeightUpdate update = awaitCondition("step-1", ConditionFactory.READY, "PodsNotReady");
        assertEquals("none of the 1 pods matching app=llm is running with ready containers: llm-0 (Pending)",
                condition(update, ConditionFactory.READY).getMessage());
        assertEquals("True", condition(update, ConditionFactory.PROGRESSING).getStatus());
    }

    @Test
    void aNodeWithoutAgentIsNamedUntilTheAgentComes() {
        agents.add(ns + "-a", Map.of());
        pod("llm-0", ns + "-a", Map.of());
        pod("llm-1", ns + "-b", Map.of());
        pod("llm-2", ns + "-b", Map.of());
        create("step-1", spec("step-1"));

        WeightUpdate update = awaitCondition("step-1", ConditionFactory.READY, "AgentMissing");
        assertEquals("no Weightlift agent reports from node " + ns + "-b (pods llm-1, llm-2): is the agent DaemonSet running there?",
                condition(update, ConditionFactory.READY).getMessage());
        assertEquals("True", condition(update, ConditionFactory.DEGRADED).getStatus());
        assertEquals(3, update.getStatus().getTargets().getTotal());
        awaitEvent("step-1", "Warning", "AgentMissing");
        assertNull(executor.started(ns, "step-1"));

        agents.add(ns + "-b", Map.of());
        client.resources(WeightUpdate.class).inNamespace(ns).withName("step-1").edit(u -> {
            u.getMetadata().setAnnotations(Map.of("touched", "1"));
            return u;
        });
        awaitCondition("step-1", ConditionFactory.PROGRESSING, "WaitingForDataPlane");
        assertEquals(3, executor.started(ns, "step-1").targets.size());
    }

    @Test
    void happyPathWalksThePhasesAndMarksThePods() throws Exception {
        agents.add(ns + "-a", Map.of(ns + "/llm-0", List.of("GPU-a0", "GPU-a1")));
        agents.add(ns + "-b", Map.of(ns + "/llm-1", List.of("GPU-b0", "GPU-b1")));
        pod("llm-0", ns + "-a", Map.of());
        pod("llm-1", ns + "-b", Map.of());
        create("step-7", spec("step-7"));

        WeightUpdate waiting = awaitCondition("step-7", ConditionFactory.PROGRESSING, "WaitingForDataPlane");
        assertEquals(Phase.Pending, waiting.getStatus().getPhase());
        assertEquals(List.of("llm-0", "llm-1"), waiting.getStatus().getPods().stream().map(PodResult::getName).toList());
        assertEquals(List.of("GPU-a0", "GPU-a1"), waiting.getStatus().getPods().get(0).getGpus());
        FakeExecutor.Started started = executor.started(ns, "step-7");
        assertEquals(List.of("llm-0", "llm-1"), started.targets.stream().map(Target::pod).toList());
        assertEquals(ns + "-b", started.targets.get(1).node());

        started.listener.progress(new ExecutionProgress(Phase.Transferring, 4L << 30, 1L << 30, 4, 1, 1L << 30));
        WeightUpdate transferring = awaitStatus("step-7", s -> s.getPhase() == Phase.Transferring);
        assertEquals(25, transferring.getStatus().getProgress().getPercent());
        assertEquals(1L << 30, transferring.getStatus().getBucketSizeBytes());
        assertEquals("Transferring", condition(transferring, ConditionFactory.PROGRESSING).getReason());

        Timings timings = new Timings();
        timings.setTotalMillis(1234L);
        started.listener.finished(ExecutionResult.succeeded(4L << 30, timings));
        WeightUpdate done = awaitStatus("step-7", s -> s.getPhase() == Phase.Succeeded);
        Condition ready = condition(done, ConditionFactory.READY);
        assertEquals("True", ready.getStatus());
        assertEquals("2 of 2 pods hold version step-7", ready.getMessage());
        assertEquals(2, done.getStatus().getTargets().getUpdated());
        assertEquals(100, done.getStatus().getProgress().getPercent());
        assertNotNull(done.getStatus().getCompletionTime());
        for (String name : List.of("llm-0", "llm-1")) {
            Pod pod = client.pods().inNamespace(ns).withName(name).get();
            assertEquals("step-7", pod.getMetadata().getAnnotations().get(WeightUpdate.VERSION_ANNOTATION));
            assertTrue(pod.getStatus().getConditions().stream().anyMatch(c -> WeightUpdate.WEIGHTS_READY_CONDITION.equals(c.getType())
                    && "True".equals(c.getStatus())), name + " lacks the weights-ready condition");
        }
        awaitEvent("step-7", "Normal", "Succeeded");

        String metrics = get("/metrics").body();
        assertTrue(metrics.contains("weightlift_updates_total{phase=\"Succeeded\"}"), metrics);
        assertTrue(metrics.contains("weightlift_update_duration_seconds_count{outcome=\"Succeeded\"}"), metrics);
        assertTrue(metrics.contains("weightlift_bytes_moved_total"), metrics);
        assertTrue(metrics.contains("operator_sdk_"), "JOSDK's metrics are missing");
    }

    @Test
    void anExecutorFailureFailsTheUpdateWithItsReason() {
        agents.add(ns + "-a", Map.of());
        pod("llm-0", ns + "-a", Map.of());
        pod("llm-1", ns + "-a", Map.of());
        create("step-1", spec("step-1"));
        awaitCondition("step-1", ConditionFactory.PROGRESSING, "WaitingForDataPlane");

        executor.started(ns, "step-1").listener.finished(ExecutionResult.failed("EngineError",
                "engine in pod llm-1 rejected bucket 3: shape mismatch for model.embed_tokens.weight", Map.of("llm-1", "shape mismatch")));
        WeightUpdate failed = awaitStatus("step-1", s -> s.getPhase() == Phase.Failed);
        Condition degraded = condition(failed, ConditionFactory.DEGRADED);
        assertEquals("True", degraded.getStatus());
        assertEquals("EngineError", degraded.getReason());
        assertTrue(degraded.getMessage().contains("model.embed_tokens.weight"), degraded.getMessage());
        assertEquals(1, failed.getStatus().getTargets().getFailed());
        awaitEvent("step-1", "Warning", "EngineError");
        Pod pod = client.pods().inNamespace(ns).withName("llm-0").get();
        assertTrue(pod.getMetadata().getAnnotations() == null || !pod.getMetadata().getAnnotations().containsKey(WeightUpdate.VERSION_ANNOTATION));
    }

    @Test
    void anUpdatePastItsDeadlineFailsWithTimeout() {
        agents.add(ns + "-a", Map.of());
        pod("llm-0", ns + "-a", Map.of());
        WeightUpdateSpec spec = spec("step-1");
        spec.setTimeoutSeconds(1);
        create("step-1", spec);

        WeightUpdate failed = awaitStatus("step-1", s -> s.getPhase() == Phase.Failed);
        Condition ready = condition(failed, ConditionFactory.READY);
        assertEquals("Timeout", ready.getReason());
        assertEquals("the update did not finish within spec.timeoutSeconds=1", ready.getMessage());
        assertEquals("deadline passed", executor.started(ns, "step-1").cancelled);
        awaitEvent("step-1", "Warning", "Timeout");
    }

    @Test
    void theNewerUpdateSupersedesTheOlder() {
        agents.add(ns + "-a", Map.of());
        pod("llm-0", ns + "-a", Map.of());
        create("step-1", spec("step-1"));
        awaitCondition("step-1", ConditionFactory.PROGRESSING, "WaitingForDataPlane");

        create("step-2", spec("step-2"));
        WeightUpdate older = awaitStatus("step-1", s -> s.getPhase() == Phase.Superseded);
        Condition ready = condition(older, ConditionFactory.READY);
        assertEquals("Superseded", ready.getReason());
        assertEquals("superseded by WeightUpdate step-2 (version step-2), which selects some of the same pods", ready.getMessage());
        assertTrue(executor.started(ns, "step-1").cancelled.startsWith("superseded by step-2"));
        awaitCondition("step-2", ConditionFactory.PROGRESSING, "WaitingForDataPlane");
        awaitEvent("step-1", "Normal", "Superseded");
    }

    @Test
    void aPausedUpdateWaitsUntilTheAnnotationGoes() {
        agents.add(ns + "-a", Map.of());
        pod("llm-0", ns + "-a", Map.of());
        WeightUpdate paused = update("step-1", spec("step-1"));
        paused.getMetadata().setAnnotations(Map.of(WeightUpdateReconciler.PAUSED_ANNOTATION, "true"));
        client.resource(paused).create();

        awaitCondition("step-1", ConditionFactory.PROGRESSING, "Paused");
        assertNull(executor.started(ns, "step-1"));

        client.resources(WeightUpdate.class).inNamespace(ns).withName("step-1").edit(u -> {
            u.getMetadata().setAnnotations(Map.of());
            return u;
        });
        awaitCondition("step-1", ConditionFactory.PROGRESSING, "WaitingForDataPlane");
    }

    @Test
    void deletingAnUpdateCancelsItAndRemovesItsMeters() {
        agents.add(ns + "-a", Map.of());
        pod("llm-0", ns + "-a", Map.of());
        create("step-1", spec("step-1"));
        awaitCondition("step-1", ConditionFactory.PROGRESSING, "WaitingForDataPlane");
        executor.started(ns, "step-1").listener.progress(new ExecutionProgress(Phase.Loading, 100, 10, 10, 1, 10));
        awaitStatus("step-1", s -> s.getPhase() == Phase.Loading);
        Predicate<String> hasGauge = text -> text.contains("weightlift_update_progress_percent{name=\"step-1\",namespace=\"" + ns + "\"}");
        assertTrue(hasGauge.test(registry.scrape()));

        client.resources(WeightUpdate.class).inNamespace(ns).withName("step-1").delete();
        await().atMost(DEADLINE).until(() -> client.resources(WeightUpdate.class).inNamespace(ns).withName("step-1").get() == null);
        assertEquals("deleted", executor.started(ns, "step-1").cancelled);
        assertTrue(hasGauge.negate().test(registry.scrape()));
    }

    @Test
    void opsEndpointsAnswerOverHttp() throws Exception {
        assertEquals(200, get("/livez").statusCode());
        await().atMost(DEADLINE).until(() -> get("/readyz").statusCode() == 200);
        HttpResponse<String> metrics = get("/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("weightlift_bytes_moved_total"), metrics.body());
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ops.port() + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private WeightUpdate awaitStatus(String name, Predicate<WeightUpdateStatus> predicate) {
        return await().atMost(DEADLINE).until(() -> client.resources(WeightUpdate.class).inNamespace(ns).withName(name).get(),
                u -> u != null && u.getStatus() != null && predicate.test(u.getStatus()));
    }

    private WeightUpdate awaitCondition(String name, String type, String reason) {
        return awaitStatus(name, s -> ConditionFactory.find(s.getConditions(), type).map(c -> reason.equals(c.getReason())).orElse(false));
    }

    private void awaitEvent(String involved, String type, String reason) {
        await().atMost(DEADLINE).until(() -> client.v1().events().inNamespace(ns).list().getItems().stream()
                .anyMatch((Event e) -> involved.equals(e.getInvolvedObject().getName()) && type.equals(e.getType()) && reason.equals(e.getReason())));
    }

    private static Condition condition(WeightUpdate update, String type) {
        return ConditionFactory.find(update.getStatus().getConditions(), type).orElseThrow(() -> new AssertionError("no " + type));
    }

    private void pod(String name, String node, Map<String, String> extraLabels) {
        Map<String, String> labels = new java.util.HashMap<>(extraLabels);
        labels.put("app", "llm");
        client.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(ns).withLabels(labels).endMetadata()
                .withNewSpec().withNodeName(node).addNewContainer().withName("engine").withImage("vllm").endContainer().endSpec()
                .build()).create();
        if (!extraLabels.containsKey(FakeKubelet.STUCK_LABEL)) {
            // pods already running when an update comes take part; pods that start later are left to scale-up
            await().atMost(DEADLINE).until(() -> client.pods().inNamespace(ns).withName(name).get(),
                    p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()));
        }
    }

    private void create(String name, WeightUpdateSpec spec) {
        client.resource(update(name, spec)).create();
    }

    private WeightUpdate update(String name, WeightUpdateSpec spec) {
        WeightUpdate update = new WeightUpdate();
        update.getMetadata().setName(name);
        update.getMetadata().setNamespace(ns);
        update.setSpec(spec);
        return update;
    }

    private static WeightUpdateSpec spec(String version) {
        WeightUpdateSpec spec = new WeightUpdateSpec();
        spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", "llm")).build());
        EngineSpec engine = new EngineSpec();
        engine.setType(EngineType.VLLM);
        spec.setEngine(engine);
        CheckpointSpec checkpoint = new CheckpointSpec();
        checkpoint.setName("qwen3-8b");
        checkpoint.setVersion(version);
        CheckpointSource source = new CheckpointSource();
        source.setPath("/ckpt/qwen3-8b/" + version);
        checkpoint.setSource(source);
        spec.setCheckpoint(checkpoint);
        return spec;
    }
}
