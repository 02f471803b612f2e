package dev.weightlift.operator.reconciler.weightupdate;

import java.util.List;

/**
 * One pod an update writes into, resolved at the update's start.
 *
 * @param namespace the pod's namespace (the update's)
 * @param pod the pod name
 * @param uid the pod UID (a pod recreated under the same name is another target)
 * @param node the node the pod runs on; its agent serves it
 * @param podIp the pod IP (the engine's HTTP API)
 * @param gpus GPU UUIDs of the pod's engine as the node's agent reported them (empty when not yet known)
 */
public record Target(String namespace, String pod, String uid, String node, String podIp, List<String> gpus) {

    public Target {
        gpus = List.copyOf(gpus);
    }
}
