package dev.weightlift.operator;

import dev.weightlift.operator.config.LogSetup;
import dev.weightlift.operator.config.OperatorConfig;
import dev.weightlift.operator.ops.OpsServer;
import dev.weightlift.operator.flow.BroadcastExecutor;
import dev.weightlift.operator.flow.HubAgentDirectory;
import dev.weightlift.operator.flow.KeepSync;
import dev.weightlift.operator.hub.AgentHub;
import dev.weightlift.operator.hub.HubConfig;
import dev.weightlift.operator.reconciler.scaleup.ScaleUpConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The operator process: configuration from the environment, the ops HTTP server, the JOSDK operator. */
public final class OperatorMain {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorMain.class);
    private static final Duration KEEP_SYNC_INTERVAL = Duration.ofSeconds(10);

    private OperatorMain() {
    }

    public static void main(String[] args) throws Exception {
        OperatorConfig config = OperatorConfig.fromEnvironment(System.getenv());
        LogSetup.apply(config.logFormat(), System.out);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);

        AtomicBoolean stopping = new AtomicBoolean();
        AtomicReference<AgentHub> hub = new AtomicReference<>();
        BroadcastExecutor executor = new BroadcastExecutor(hub::get, config.deadlines(), registry);
        WeightliftOperator.Leadership leadership = new WeightliftOperator.Leadership(
                () -> {
                    LOG.info("leading");
                    startHub(config, registry, executor, hub);
                },
                () -> {
                    if (!stopping.get()) {
                        LOG.error("lost the lease {}: exiting so that no two replicas lead", OperatorConfig.LEASE_NAME);
                        new Thread(() -> System.exit(1), "exit").start();
                    }
                });
        KubernetesClient client = new KubernetesClientBuilder().build();
        Operator operator = WeightliftOperator.create(client, config, new HubAgentDirectory(hub::get), executor,
                ScaleUpConfig.defaults(executor), registry, Clock.systemUTC(), leadership);
        KeepSync keepSync = new KeepSync(client, hub::get, config.watchNamespaces()).start(KEEP_SYNC_INTERVAL);
        OpsServer ops = new OpsServer(config.httpPort(), registry, () -> WeightliftOperator.readiness(operator));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping.set(true);
            LOG.info("shutting down");
            operator.stop();
            keepSync.close();
            executor.close();
            if (hub.get() != null) {
                hub.get().close();
            }
            ops.close();
            client.close();
        }, "shutdown"));
        operator.start();
        if (!config.leaderElection()) {
            leadership.onStartLeading().run();
        }
        LOG.info("started httpPort={} namespaces={} leaderElection={}", ops.port(),
                config.watchNamespaces().isEmpty() ? "all" : config.watchNamespaces(), config.leaderElection());
    }

    /** Only the leader binds the agent hub, so every agent registers with the replica that reconciles. */
    private static void startHub(OperatorConfig config, MeterRegistry registry, BroadcastExecutor executor,
            AtomicReference<AgentHub> hub) {
        try {
            AgentHub started = AgentHub.start(HubConfig.of(config), registry);
            started.addUpdateListener(executor.progressListener());
            hub.set(started);
            LOG.info("agent hub bound endpoint={}", started.endpoint());
        } catch (IOException | RuntimeException e) {
            LOG.error("cannot bind the agent hub: exiting", e);
            new Thread(() -> System.exit(1), "exit").start();
        }
    }
}
