package dev.weightlift.operator.testing;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the kubelet would do, for the mock server: every scheduled pod without a phase becomes Running with
 * ready containers and an IP. Pods labelled {@code test.weightlift.dev/stuck=true} are left Pending.
 */
public final class FakeKubelet implements AutoCloseable {

    public static final String STUCK_LABEL = "test.weightlift.dev/stuck";

    private final KubernetesClient client;
    private final SharedIndexInformer<Pod> informer;
    private final AtomicInteger nextIp = new AtomicInteger(10);

    public FakeKubelet(KubernetesClient client) {
        this.client = client;
        this.informer = client.pods().inAnyNamespace().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                start(pod);
            }

            @Override
            public void onUpdate(Pod old, Pod pod) {
                start(pod);
            }

            @Override
            public void onDelete(Pod pod, boolean unknown) {
            }
        });
    }

    private void start(Pod pod) {
        boolean stuck = pod.getMetadata().getLabels() != null && "true".equals(pod.getMetadata().getLabels().get(STUCK_LABEL));
        if (stuck || pod.getSpec().getNodeName() == null || (pod.getStatus() != null && pod.getStatus().getPhase() != null)) {
            return;
        }
        pod.setStatus(new PodStatusBuilder().withPhase("Running").withPodIP("10.0.0." + nextIp.getAndIncrement())
                .withConditions(
                        new PodConditionBuilder().withType("ContainersReady").withStatus("True").build(),
                        new PodConditionBuilder().withType("Ready").withStatus("True").build())
                .build());
        client.pods().resource(pod).updateStatus();
    }

    @Override
    public void close() {
        informer.close();
    }
}
