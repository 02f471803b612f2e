package dev.weightlift.operator;

import dev.weightlift.operator.config.LogSetup;
import dev.weightlift.operator.config.OperatorConfig;
import dev.weightlift.operator.ops.OpsServer;
import dev.weightlift.operator.reconciler.scaleup.P2pExecutor;
import dev.weightlift.operator.reconciler.scaleup.ScaleUpConfig;
import dev.weightlift.operator.reconciler.weightupdate.AgentDirectory;
import dev.weightlift.operator.reconciler.weightupdate.WaitingUpdateExecutor;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The operator process: configuration from the environment, the ops HTTP server, the JOSDK operator. */
public final class OperatorMain {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorMain.class);

    private OperatorMain() {
    }

    public static void main(String[] args) throws Exception {
        OperatorConfig config = OperatorConfig.fromEnvironment(System.getenv());
        LogSetup.apply(config.logFormat(), System.out);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);

        AtomicBoolean stopping = new AtomicBoolean();
        WeightliftOperator.Leadership leadership = new WeightliftOperator.Leadership(
                () -> LOG.info("leading"),
                () -> {
                    if (!stopping.get()) {
                        LOG.error("lost the lease {}: exiting so that no two replicas lead", OperatorConfig.LEASE_NAME);
                        new Thread(() -> System.exit(1), "exit").start();
                    }
                });
        KubernetesClient client = new KubernetesClientBuilder().build();
        Operator operator = WeightliftOperator.create(client, config, AgentDirectory.EMPTY, new WaitingUpdateExecutor(),
                ScaleUpConfig.defaults(P2pExecutor.UNAVAILABLE), registry, Clock.systemUTC(), leadership);
        OpsServer ops = new OpsServer(config.httpPort(), registry, () -> WeightliftOperator.readiness(operator));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping.set(true);
            LOG.info("shutting down");
            operator.stop();
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
}
