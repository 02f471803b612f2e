package dev.weightlift.operator;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.weightlift.operator.config.OperatorConfig;
import dev.weightlift.operator.reconciler.scaleup.P2pExecutor;
import dev.weightlift.operator.reconciler.scaleup.ScaleUpConfig;
import dev.weightlift.operator.reconciler.weightupdate.AgentDirectory;
import dev.weightlift.operator.reconciler.weightupdate.WaitingUpdateExecutor;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * With POD_NAME and POD_NAMESPACE set the operator leads through Lease weightlift-operator. JOSDK first asks
 * whether it may use Leases (a SelfSubjectRulesReview), which the CRUD mock server cannot answer: an expectation
 * answers it with the operator's RBAC.
 */
@EnableKubernetesMockClient(crud = true)
class LeaderElectionTest {

    static KubernetesClient client;
    static KubernetesMockServer server;

    @Test
    void theOperatorTakesTheLeaseInItsNamespace() throws Exception {
        server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
                .andReturn(201, new SelfSubjectRulesReviewBuilder().withNewMetadata().endMetadata()
                        .withNewSpec().withNamespace("weightlift-system").endSpec()
                        .withNewStatus().withIncomplete(false).addNewResourceRule().withApiGroups("coordination.k8s.io")
                        .withResources("leases").withVerbs("get", "create", "update").endResourceRule().endStatus().build())
                .always();
        OperatorConfig config = OperatorConfig.fromEnvironment(Map.of("POD_NAME", "weightlift-operator-0", "POD_NAMESPACE", "weightlift-system"));
        CountDownLatch leading = new CountDownLatch(1);
        Operator operator = WeightliftOperator.create(client, config, AgentDirectory.EMPTY, new WaitingUpdateExecutor(),
                ScaleUpConfig.defaults(P2pExecutor.UNAVAILABLE),
                new SimpleMeterRegistry(), Clock.systemUTC(), new WeightliftOperator.Leadership(leading::countDown, () -> { }));
        operator.start();
        try {
            assertEquals(true, leading.await(20, TimeUnit.SECONDS), "never became leader");
            Lease lease = await().atMost(Duration.ofSeconds(10)).until(
                    () -> client.leases().inNamespace("weightlift-system").withName(OperatorConfig.LEASE_NAME).get(), l -> l != null);
            assertEquals("weightlift-operator-0", lease.getSpec().getHolderIdentity());
        } finally {
            operator.stop();
        }
    }
}
