package dev.weightlift.e2e;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Map;

/**
 * What the kubelets would do, for the mock server: a scheduled pod without a phase becomes Running with ready
 * containers and the IP its engine listens on (annotation {@value #POD_IP_ANNOTATION}).
 */
final class FakeKubelet implements AutoCloseable {

    static final String POD_IP_ANNOTATION = "test.weightlift.dev/pod-ip";

    private final KubernetesClient client;
    private final SharedIndexInformer<Pod> informer;

    FakeKubelet(KubernetesClient client, String namespace) {
        this.client = client;
        this.informer = client.pods().inNamespace(namespace).inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                run(pod);
            }

            @Override
            public void onUpdate(Pod old, Pod pod) {
                run(pod);
            }

            @Override
            public void onDelete(Pod pod, boolean unknown) {
            }
        });
    }

    private void run(Pod pod) {
        if (pod.getSpec().getNodeName() == null || (pod.getStatus() != null && pod.getStatus().getPhase() != null)) {
            return;
        }
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        String ip = annotations == null ? null : annotations.get(POD_IP_ANNOTATION);
        pod.setStatus(new PodStatusBuilder().withPhase("Running").withPodIP(ip).withHostIP("127.0.0.1")
                .withConditions(new PodConditionBuilder().withType("ContainersReady").withStatus("True").build(),
                        new PodConditionBuilder().withType("Ready").withStatus("True").build())
                .build());
        client.pods().resource(pod).updateStatus();
    }

    @Override
    public void close() {
        informer.close();
    }
}
