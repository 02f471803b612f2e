package dev.weightlift.operator;

import dev.weightlift.operator.config.OperatorConfig;
import dev.weightlift.operator.ops.OpsServer;
import dev.weightlift.operator.ops.UpdateMetrics;
import dev.weightlift.operator.reconciler.weightupdate.AgentDirectory;
import dev.weightlift.operator.reconciler.weightupdate.PodMarker;
import dev.weightlift.operator.reconciler.weightupdate.UpdateExecutor;
import dev.weightlift.operator.reconciler.weightupdate.WeightUpdateReconciler;
import dev.weightlift.operator.status.EventRecorder;
import dev.weightlift.operator.status.StatusWriter;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.RuntimeInfo;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;

/**
 * Builds the JOSDK operator with the WeightUpdate controller, for {@link OperatorMain} and for tests. No
 * Server-Side Apply (status is written by {@link StatusWriter}; the finalizer is a plain patch).
 */
public final class WeightliftOperator {

    public static final String COMPONENT = "weightlift-operator";

    private WeightliftOperator() {
    }

    public static Operator create(KubernetesClient client, OperatorConfig config, AgentDirectory agents, UpdateExecutor executor,
            MeterRegistry registry, Clock clock) {
        Operator operator = new Operator(o -> {
            o.withKubernetesClient(client)
                    .withCloseClientOnStop(false)
                    .withUseSSAToPatchPrimaryResource(false)
                    .withSSABasedCreateUpdateMatchForDependentResources(false)
                    .withMetrics(MicrometerMetrics.newPerResourceCollectingMicrometerMetricsBuilder(registry)
                            .withCleanUpDelayInSeconds(60).build());
            if (config.leaderElection()) {
                o.withLeaderElectionConfiguration(new LeaderElectionConfiguration(OperatorConfig.LEASE_NAME,
                        config.podNamespace().orElseThrow(), config.podName().orElseThrow()));
            }
        });
        UpdateMetrics metrics = new UpdateMetrics(registry);
        WeightUpdateReconciler reconciler = new WeightUpdateReconciler(agents, executor, new PodMarker(client, clock),
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
