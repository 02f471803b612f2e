package dev.weightlift.operator;

import dev.weightlift.operator.config.OperatorConfig;
import dev.weightlift.operator.ops.OpsServer;
import dev.weightlift.operator.ops.UpdateMetrics;
import dev.weightlift.operator.reconciler.scaleup.ScaleUpConfig;
import dev.weightlift.operator.reconciler.weightupdate.AgentDirectory;
import dev.weightlift.operator.reconciler.weightupdate.PodMarker;
import dev.weightlift.operator.reconciler.weightupdate.UpdateExecutor;
import dev.weightlift.operator.reconciler.weightupdate.WeightUpdateReconciler;
import dev.weightlift.operator.status.EventRecorder;
import dev.weightlift.operator.status.StatusWriter;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.RuntimeInfo;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the JOSDK operator with the WeightUpdate controller, for {@link OperatorMain} and for tests. No
 * Server-Side Apply (status is written by {@link StatusWriter}; the finalizer is a plain patch).
 */
public final class WeightliftOperator {

    public static final String COMPONENT = "weightlift-operator";

    private static final Logger LOG = LoggerFactory.getLogger(WeightliftOperator.class);

    private WeightliftOperator() {
    }

    public static Operator create(KubernetesClient client, OperatorConfig config, AgentDirectory agents, UpdateExecutor executor,
            ScaleUpConfig scaleUp, MeterRegistry registry, Clock clock) {
        return create(client, config, agents, executor, scaleUp, registry, clock, Leadership.NONE);
    }

    /**
     * What happens around leadership when leader election is on ({@link OperatorConfig#leaderElection()}).
     *
     * @param onStartLeading run when this replica becomes the leader (e.g. bind the agent hub); without leader
     *        election the caller runs it itself at start
     * @param onStopLeading run when this replica stops leading: it lost the lease, or the operator stops
     */
    public record Leadership(Runnable onStartLeading, Runnable onStopLeading) {
        public static final Leadership NONE = new Leadership(() -> { }, () -> { });
    }

    public static Operator create(KubernetesClient client, OperatorConfig config, AgentDirectory agents, UpdateExecutor executor,
            ScaleUpConfig scaleUp, MeterRegistry registry, Clock clock, Leadership leadership) {
        Operator operator = new Operator(o -> {
            o.withKubernetesClient(client)
                    .withCloseClientOnStop(false)
                    .withUseSSAToPatchPrimaryResource(false)
                    .withSSABasedCreateUpdateMatchForDependentResources(false)
                    .withMetrics(MicrometerMetrics.newPerResourceCollectingMicrometerMetricsBuilder(registry)
                            .withCleanUpDelayInSeconds(60).build());
            if (config.leaderElection()) {
                String identity = config.podName().orElseThrow();
                o.withLeaderElectionConfiguration(new LeaderElectionConfiguration(OperatorConfig.LEASE_NAME,
                        config.podNamespace().orElseThrow(), LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
                        LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE, LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE,
                        identity, new LeaderCallbacks(leadership.onStartLeading(), leadership.onStopLeading(),
                                leader -> LOG.info("leader is {}", leader)),
                        false));
            }
        });
        UpdateMetrics metrics = new UpdateMetrics(registry);
        WeightUpdateReconciler reconciler = new WeightUpdateReconciler(agents, executor, scaleUp, new PodMarker(client, clock),
                new StatusWriter(client), new EventRecorder(client, clock, COMPONENT, Duration.ofMinutes(1), 10), metrics, clock);
        operator.register(reconciler, c -> {
            if (config.watchNamespaces().isEmpty()) {
                c.watchingAllNamespaces();
            } else {
                c.settingNamespaces(config.watchNamespaces());
            }
        });
        return operator;
    }

    /** Ready once started with every event source healthy; names the unhealthy ones otherwise. */
    public static OpsServer.Health readiness(Operator operator) {
        RuntimeInfo info = operator.getRuntimeInfo();
        if (!info.isStarted()) {
            return new OpsServer.Health(false, "operator not started");
        }
        if (!info.allEventSourcesAreHealthy()) {
            return new OpsServer.Health(false, "unhealthy event sources: " + info.unhealthyEventSources().keySet());
        }
        return new OpsServer.Health(true, "");
    }
}
