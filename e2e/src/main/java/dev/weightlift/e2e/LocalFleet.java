package dev.weightlift.e2e;

import dev.weightlift.api.v1alpha1.CheckpointSource;
import dev.weightlift.api.v1alpha1.CheckpointSpec;
import dev.weightlift.api.v1alpha1.EngineProtocol;
import dev.weightlift.api.v1alpha1.EngineSpec;
import dev.weightlift.api.v1alpha1.EngineType;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateSpec;
import dev.weightlift.operator.WeightliftOperator;
import dev.weightlift.operator.config.OperatorConfig;
import dev.weightlift.operator.flow.BroadcastExecutor;
import dev.weightlift.operator.flow.HubAgentDirectory;
import dev.weightlift.operator.flow.KeepSync;
import dev.weightlift.operator.hub.AgentHub;
import dev.weightlift.operator.hub.AgentInfo;
import dev.weightlift.operator.reconciler.scaleup.HttpEngineProbe;
import dev.weightlift.operator.reconciler.scaleup.ScaleUpConfig;
import dev.weightlift.operator.hub.HubConfig;
import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.GpuInfo;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.TreeMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Everything of a fleet on one machine: the Fabric8 CRUD mock server as the Kubernetes API, the operator
 * in-process (JOSDK, agent hub with CURVE keys made for this run, Broadcast executor), a fake kubelet, one agent
 * JVM per node on the host backend, and one test engine process per GPU (one pod each), every engine on its
 * own loopback address. Used by the e2e tests and the demo.
 */
public final class LocalFleet implements AutoCloseable {

    public static final String NAMESPACE = "fleet";
    public static final String APP_LABEL = "app";
    public static final String APP = "llm";
    private static final Duration START_DEADLINE = Duration.ofSeconds(60);
    /** The mock server logs every request through java.util.logging at INFO; held here so the level sticks. */
    private static final java.util.logging.Logger MOCK_SERVER_LOG = quiet("io.fabric8.mockwebserver");

    /**
     * @param nodes       agent processes
     * @param gpusPerNode fake GPUs per node, one engine (pod) each
     * @param shape       the engines' model
     * @param workDir     logs, sockets, keys
     * @param python      the Python with torch
     * @param pythonPath  the directory holding the {@code weightlift_engine} package
     * @param classpath   the agent's runtime classpath
     * @param engineFaults extra arguments of some engines (fault injection), by engine index (node-major)
     * @param gpusPerInstance GPUs of one engine (pod), consecutive GPUs of a node; divides {@code gpusPerNode}
     * @param spareGpusPerNode more fake GPUs of each of the first nodes, without engines (for {@link #addPod})
     */
    public record Options(int nodes, int gpusPerNode, TinyCheckpoint.Shape shape, Path workDir, String python, Path pythonPath,
            String classpath, Map<Integer, List<String>> engineFaults, int gpusPerInstance, int spareGpusPerNode) {

        public Options {
            engineFaults = Map.copyOf(engineFaults);
            if (gpusPerInstance < 1 || gpusPerNode % gpusPerInstance != 0) {
                throw new IllegalArgumentException("gpusPerInstance " + gpusPerInstance + " does not divide gpusPerNode " + gpusPerNode);
            }
        }

        public Options(int nodes, int gpusPerNode, TinyCheckpoint.Shape shape, Path workDir, String python, Path pythonPath,
                String classpath, Map<Integer, List<String>> engineFaults, int gpusPerInstance) {
            this(nodes, gpusPerNode, shape, workDir, python, pythonPath, classpath, engineFaults, gpusPerInstance, 0);
        }

        public Options(int nodes, int gpusPerNode, TinyCheckpoint.Shape shape, Path workDir, String python, Path pythonPath,
                String classpath, Map<Integer, List<String>> engineFaults) {
            this(nodes, gpusPerNode, shape, workDir, python, pythonPath, classpath, engineFaults, 1);
        }

        public Options(int nodes, int gpusPerNode, TinyCheckpoint.Shape shape, Path workDir, String python, Path pythonPath,
                String classpath) {
            this(nodes, gpusPerNode, shape, workDir, python, pythonPath, classpath, Map.of());
        }
    }

    /** One pod: its engine, node and GPUs. */
    public record EnginePod(String name, String node, List<String> gpus, String ip) {
    }

    private final Options options;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final List<EngineProcess> engines = new ArrayList<>();
    private final List<EnginePod> pods = new ArrayList<>();
    private KubernetesMockServer server;
    private KubernetesClient client;
    private final Map<String, AgentProcess> agents = new LinkedHashMap<>();
    private final Map<String, Integer> metricsPorts = new HashMap<>();
    private final Map<String, Integer> gpusByNode = new HashMap<>();
    private final List<AutoCloseable> operatorResources = new ArrayList<>();
    private volatile AgentHub hub;
    private int hubPort;
    private Path curve;
    private String ipPrefix;
    private int nextAddress = 1;
    private int enginePort;

    private LocalFleet(Options options) {
        this.options = options;
    }

    public static LocalFleet start(Options options) throws Exception {
        LocalFleet fleet = new LocalFleet(options);
        try {
            fleet.startAll();
            return fleet;
        } catch (Exception | Error e) {
            fleet.close();
            throw e;
        }
    }

    private void startAll() throws Exception {
        curve = options.workDir().resolve("curve");
        CurveKeys.generate(curve);
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        resources.add(server::destroy);
        client = server.createClient();
        resources.add(client);
        resources.add(this::stopOperator);
        hubPort = freePort();
        startOperator();
        resources.add(new FakeKubelet(client, NAMESPACE));

        ThreadLocalRandom random = ThreadLocalRandom.current();
        ipPrefix = "127." + random.nextInt(1, 255) + "." + random.nextInt(1, 255) + ".";
        enginePort = random.nextInt(20_000, 30_000);
        List<String> nodes = new ArrayList<>();
        for (int n = 0; n < options.nodes(); n++) {
            nodes.add("node-" + n);
        }
        addNodes(nodes, options.gpusPerNode(), options.spareGpusPerNode());
    }

    /**
     * Brings up nodes that join the fleet: an agent each, then an engine per fake GPU and its pod (labelled
     * like the others, so the updates select it).
     *
     * @return the new pods
     */
    public List<EnginePod> addNodes(List<String> nodes, int gpusPerNode) throws Exception {
        return addNodes(nodes, gpusPerNode, 0);
    }

    private List<EnginePod> addNodes(List<String> nodes, int gpusPerNode, int spareGpus) throws Exception {
        for (String node : nodes) {
            startAgent(node, gpusPerNode + spareGpus);
        }
        Waits.until("every agent registered with the hub", START_DEADLINE,
                () -> nodes.stream().allMatch(n -> hub.agent(n).isPresent()));
        List<EnginePod> added = new ArrayList<>();
        for (String node : nodes) {
            List<GpuInfo> gpus = hub.agent(node).orElseThrow().gpus().subList(0, gpusPerNode);
            for (int first = 0; first < gpus.size(); first += options.gpusPerInstance()) {
                added.add(newPod(node, gpus.subList(first, first + options.gpusPerInstance())));
            }
        }
        return startPods(added);
    }

    /**
     * Brings up one more engine and its pod on a spare GPU of {@code node} (see {@link Options#spareGpusPerNode}),
     * as a pod that lands on a node of the fleet.
     */
    public EnginePod addPod(String node) throws Exception {
        Set<String> used = new java.util.HashSet<>();
        pods.stream().filter(p -> p.node().equals(node)).forEach(p -> used.addAll(p.gpus()));
        List<GpuInfo> free = agent(node).gpus().stream().filter(g -> !used.contains(g.uuid())).toList();
        if (free.size() < options.gpusPerInstance()) {
            throw new IllegalStateException("node " + node + " has " + free.size() + " spare GPUs, a pod needs " + options.gpusPerInstance());
        }
        return startPods(List.of(newPod(node, free.subList(0, options.gpusPerInstance())))).get(0);
    }

    private EnginePod newPod(String node, List<GpuInfo> gpus) {
        return new EnginePod("llm-" + node + "-" + gpus.get(0).index(), node, gpus.stream().map(GpuInfo::uuid).toList(),
                ipPrefix + nextAddress++);
    }

    /** Starts the pods' engines, then creates the pods and waits until they run. */
    private List<EnginePod> startPods(List<EnginePod> added) throws Exception {
        List<EngineProcess> started = new ArrayList<>();
        for (EnginePod pod : added) {
            List<String> args = new ArrayList<>(List.of("--fault-file", faultFile(pod.name()).toString()));
            args.addAll(options.engineFaults().getOrDefault(engines.size(), List.of()));
            EngineProcess engine = EngineProcess.start(pod.name(), options.python(), options.pythonPath(), pod.ip(), enginePort,
                    pod.gpus(), options.shape(), args, options.workDir().resolve(pod.node()).resolve(pod.name() + ".log"));
            engines.add(engine);
            started.add(engine);
            resources.add(engine);
            pods.add(pod);
        }
        for (EngineProcess engine : started) {
            engine.awaitReady(START_DEADLINE);
        }
        for (EnginePod pod : added) {
            client.resource(new PodBuilder().withNewMetadata().withName(pod.name()).withNamespace(NAMESPACE)
                    .withLabels(Map.of(APP_LABEL, APP))
                    .withAnnotations(Map.of(WeightUpdate.GPUS_ANNOTATION, String.join(",", pod.gpus()),
                            FakeKubelet.POD_IP_ANNOTATION, pod.ip()))
                    .endMetadata()
                    .withNewSpec().withNodeName(pod.node()).addNewContainer().withName("engine").withImage("vllm/vllm-openai")
                    .endContainer().endSpec().build()).create();
        }
        Waits.until("every pod running", START_DEADLINE, () -> added.stream().allMatch(p -> {
            Pod pod = client.pods().inNamespace(NAMESPACE).withName(p.name()).get();
            return pod != null && pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
        }));
        return added;
    }

    /**
     * Restarts every agent process (as after a node reboot the host stores are empty); the engines keep
     * running. Returns once every agent registered again.
     */
    public void restartAgents() throws Exception {
        restartAgents(new ArrayList<>(agents.keySet()));
    }

    /** Restarts the agents of {@code nodes} only, as {@link #restartAgents()} does. */
    public void restartAgents(List<String> nodes) throws Exception {
        for (String node : nodes) {
            AgentProcess old = agents.remove(node);
            resources.remove(old);
            old.close();
        }
        for (String node : nodes) {
            startAgent(node, gpusByNode.get(node));
        }
        Waits.until("every agent registered again, holding nothing", START_DEADLINE, () -> nodes.stream()
                .allMatch(n -> hub.agent(n).isPresent() && hub.agent(n).get().checkpoints().isEmpty()));
    }

    /**
     * Starts the operator in-process: the agent hub (on the same port each time, so that the agents reconnect
     * to it), the Broadcast executor, the JOSDK operator and the keep-sync loop, all dropped by {@link #stopOperator}.
     */
    private void startOperator() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        hub = AgentHub.start(HubConfig.of("tcp://127.0.0.1:" + hubPort, CurveKeys.loadHub(curve)), registry);
        AgentHub bound = hub;
        OperatorConfig config = OperatorConfig.fromEnvironment(Map.of());
        BroadcastExecutor executor = new BroadcastExecutor(() -> bound, config.deadlines(), registry);
        hub.addUpdateListener(executor.progressListener());
        operatorResources.add(executor);
        Operator operator = WeightliftOperator.create(client, config, new HubAgentDirectory(() -> bound),
                executor, new ScaleUpConfig(executor, new HttpEngineProbe(Duration.ofSeconds(2)), Duration.ofMillis(500), Duration.ofSeconds(3),
                        Duration.ofSeconds(10)), registry, Clock.systemUTC());
        operator.start();
        operatorResources.add(operator::stop);
        operatorResources.add(new KeepSync(client, () -> bound, Set.of(NAMESPACE)).start(Duration.ofSeconds(1)));
        // closed first, as when the operator's pod dies: its runs can no longer reach the agents
        operatorResources.add(bound);
    }

    private void stopOperator() {
        closeAll(operatorResources);
    }

    /**
     * Stops the in-process operator (as a crashed or rescheduled operator pod: its runs end without finishing
     * the updates' status) and starts a fresh one against the same API server, CURVE keys and hub port; returns
     * once every agent registered with the new hub.
     */
    public void restartOperator() throws Exception {
        stopOperator();
        startOperator();
        Waits.until("every agent registered with the new hub", START_DEADLINE,
                () -> agents.keySet().stream().allMatch(n -> hub.agent(n).isPresent()));
    }

    /**
     * Restarts the agent of {@code node} with {@code extraEnv} added to its environment (e.g. another
     * {@code WEIGHTLIFT_SHM_DIR}); its engines keep running. Returns once it registered again.
     */
    public void restartAgent(String node, Map<String, String> extraEnv) throws Exception {
        AgentProcess old = agents.remove(node);
        resources.remove(old);
        old.close();
        startAgent(node, gpusByNode.get(node), extraEnv);
        Waits.until("the agent of " + node + " registered again", START_DEADLINE, () -> hub.agent(node).isPresent());
    }

    private void startAgent(String node, int gpus) throws IOException {
        startAgent(node, gpus, Map.of());
    }

    private void startAgent(String node, int gpus, Map<String, String> extraEnv) throws IOException {
        int metricsPort = freePort();
        AgentProcess agent = AgentProcess.start(node, options.classpath(), hub.endpoint(), curve, options.workDir().resolve(node),
                gpus, "1Gi", "2Gi", metricsPort, freePort(), extraEnv);
        agents.put(node, agent);
        metricsPorts.put(node, metricsPort);
        gpusByNode.put(node, gpus);
        resources.add(agent);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /**
     * The agent's counters now, from its {@code /metrics}: every sample of the metrics whose name starts with
     * {@code prefix}, keyed by the sample line's name and labels (e.g. {@code weightlift_pipeline_bytes_total{gpu="GPU-..."}}).
     */
    public Map<String, Double> agentCounters(String node, String prefix) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPorts.get(node) + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("agent of " + node + ": /metrics answered " + response.statusCode());
        }
        Map<String, Double> counters = new TreeMap<>();
        for (String line : response.body().split("\n")) {
            if (line.startsWith(prefix)) {
                int space = line.lastIndexOf(' ');
                counters.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
            }
        }
        return counters;
    }

    /** The agent's view of the node as of its latest heartbeat. */
    public AgentInfo agent(String node) {
        return hub.agent(node).orElseThrow(() -> new IllegalStateException("no agent of " + node + " is connected"));
    }

    private static java.util.logging.Logger quiet(String name) {
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
        logger.setLevel(java.util.logging.Level.WARNING);
        return logger;
    }

    /** Whether every engine process is still running. */
    public boolean enginesAlive() {
        return engines.stream().allMatch(EngineProcess::isAlive);
    }

    /**
     * Injects a fault into the running engine of {@code pod}, read before each bucket it receives: {@code delay S},
     * {@code hang}, {@code fail}, {@code die}; an empty text clears it (a hung engine then goes on).
     */
    public void injectEngineFault(String pod, String fault) throws IOException {
        Files.writeString(faultFile(pod), fault);
    }

    private Path faultFile(String pod) {
        return options.workDir().resolve(pod + ".fault");
    }

    /** SIGKILLs the engine process of {@code pod}. */
    public void killEngine(String pod) throws InterruptedException {
        engines.get(podIndex(pod)).kill();
    }

    /** Whether the engine process of {@code pod} is running. */
    public boolean engineAlive(String pod) {
        return engines.get(podIndex(pod)).isAlive();
    }

    /**
     * Freezes ({@code SIGSTOP}) or thaws ({@code SIGCONT}) the agent JVM of {@code node}: to the hub its control
     * connection goes silent, as when the network between them is cut, while its engines keep running.
     */
    public void freezeAgent(String node, boolean frozen) throws IOException, InterruptedException {
        agents.get(node).signal(frozen ? "STOP" : "CONT");
    }

    /** SIGKILLs the agent JVM of {@code node}. */
    public void killAgent(String node) throws InterruptedException {
        agents.get(node).kill();
    }

    /** Whether the hub counts the agent of {@code node} as connected. */
    public boolean agentConnected(String node) {
        return hub.agent(node).isPresent();
    }

    /** What an agent uses now: open file descriptors, resident memory, host store bytes. */
    public record AgentUsage(int fileDescriptors, long residentBytes, long hostStoreBytes) {
    }

    /** What the agent of {@code node} uses now, after a full GC in it (see {@link AgentProcess#collectGarbage}). */
    public AgentUsage agentUsage(String node) throws IOException, InterruptedException {
        AgentProcess agent = agents.get(node);
        agent.collectGarbage();
        return new AgentUsage(agent.openFileDescriptors(), agent.residentBytes(),
                (long) agent.metric("weightlift_host_store_used_bytes"));
    }

    /** What each open file descriptor of the agent of {@code node} points at. */
    public List<String> agentFileDescriptors(String node) throws IOException {
        return agents.get(node).fileDescriptorTargets();
    }

    private int podIndex(String pod) {
        for (int i = 0; i < pods.size(); i++) {
            if (pods.get(i).name().equals(pod)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no engine pod " + pod);
    }

    public KubernetesClient client() {
        return client;
    }

    public List<EnginePod> pods() {
        return List.copyOf(pods);
    }

    /** Creates a WeightUpdate of every engine pod to {@code version} of {@code checkpoint}. */
    public WeightUpdate apply(String name, String version, TinyCheckpoint checkpoint, String bucketSize, int timeoutSeconds) {
        return apply(name, version, checkpoint, bucketSize, timeoutSeconds, spec -> { });
    }

    /** As {@link #apply(String, String, TinyCheckpoint, String, int)}, with {@code customize} changing the spec before it is created. */
    public WeightUpdate apply(String name, String version, TinyCheckpoint checkpoint, String bucketSize, int timeoutSeconds,
            Consumer<WeightUpdateSpec> customize) {
        WeightUpdateSpec spec = new WeightUpdateSpec();
        spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of(APP_LABEL, APP)).build());
        EngineSpec engine = new EngineSpec();
        engine.setType(EngineType.VLLM);
        engine.setPort(enginePort);
        engine.setProtocol(EngineProtocol.NATIVE);
        engine.setGpusPerInstance(options.gpusPerInstance());
        spec.setEngine(engine);
        CheckpointSpec ckpt = new CheckpointSpec();
        ckpt.setName("tiny");
        ckpt.setVersion(version);
        CheckpointSource source = new CheckpointSource();
        source.setPath(checkpoint.directory().toAbsolutePath().toString());
        ckpt.setSource(source);
        spec.setCheckpoint(ckpt);
        spec.setBucketSize(bucketSize);
        spec.setTimeoutSeconds(timeoutSeconds);
        customize.accept(spec);
        WeightUpdate update = new WeightUpdate();
        update.getMetadata().setName(name);
        update.getMetadata().setNamespace(NAMESPACE);
        update.setSpec(spec);
        return client.resource(update).create();
    }

    public WeightUpdate get(String name) {
        return client.resources(WeightUpdate.class).inNamespace(NAMESPACE).withName(name).get();
    }

    /** Waits until the update satisfies {@code condition}; returns it then. */
    public WeightUpdate await(String name, Predicate<WeightUpdate> condition, Duration deadline) throws Exception {
        WeightUpdate[] last = new WeightUpdate[1];
        Waits.until("WeightUpdate " + name + " reached the expected state (last status: " + describe(last) + ")", deadline, () -> {
            last[0] = get(name);
            return last[0] != null && condition.test(last[0]);
        });
        return last[0];
    }

    private static Object describe(WeightUpdate[] last) {
        return new Object() {
            @Override
            public String toString() {
                return last[0] == null || last[0].getStatus() == null ? "none" : Objects.toString(last[0].getStatus().getPhase())
                        + " " + last[0].getStatus().getConditions();
            }
        };
    }

    /**
     * Asks every engine worker for the sha256 of each parameter and compares them with the checkpoint's.
     *
     * @return the result: workers checked, bytes checked, every mismatch named
     */
    public Verification verify(TinyCheckpoint checkpoint, String version) throws IOException, InterruptedException {
        return verify(checkpoint, version, pod -> true);
    }

    /** {@link #verify(TinyCheckpoint, String)} of the engines of the pods {@code which} accepts. */
    public Verification verify(TinyCheckpoint checkpoint, String version, Predicate<EnginePod> which)
            throws IOException, InterruptedException {
        int workers = 0;
        long bytes = 0;
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < engines.size(); i++) {
            if (!which.test(pods.get(i))) {
                continue;
            }
            for (EngineProcess.WorkerState state : engines.get(i).checksums(Duration.ofSeconds(30))) {
                workers++;
                String where = pods.get(i).name() + " (" + state.gpuUuid() + ")";
                if (!version.equals(state.version())) {
                    problems.add(where + " holds version " + state.version() + ", not " + version);
                }
                boolean all = true;
                for (Map.Entry<String, String> expected : checkpoint.sha256().entrySet()) {
                    if (!expected.getValue().equals(state.sha256().get(expected.getKey()))) {
                        problems.add(where + ": parameter " + expected.getKey() + " differs from the checkpoint");
                        all = false;
                    }
                }
                if (all) {
                    bytes += checkpoint.bytes();
                }
            }
        }
        return new Verification(engines.size(), workers, bytes, problems);
    }

    /** What {@link #verify} found. */
    public record Verification(int engines, int workers, long bytesChecked, List<String> problems) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    @Override
    public void close() {
        closeAll(resources);
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                System.err.println("closing " + resources.get(i) + ": " + e);
            }
        }
        resources.clear();
    }
}
