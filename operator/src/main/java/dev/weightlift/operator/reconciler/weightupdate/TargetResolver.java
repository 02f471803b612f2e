package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Selected pods → the pods that can take the update now → their nodes → the agents there → targets with GPUs.
 * Pure: the pods and the agent directory come in, a {@link Resolution} comes out.
 *
 * <p>A pod can take an update when it is Running on a node with all containers ready. Its own Ready condition
 * is not asked for: with the {@code weightlift.dev/weights-ready} readiness gate a pod is not Ready until it
 * holds the weights.
 */
public final class TargetResolver {

    private TargetResolver() {
    }

    public static Resolution resolve(String namespace, PodSelector selector, List<Pod> matching, AgentDirectory agents) {
        if (matching.isEmpty()) {
            return new Resolution.NoMatchingPods("no pod in namespace " + namespace + " matches selector " + selector);
        }
        List<Pod> pods = matching.stream().sorted(Comparator.comparing(p -> p.getMetadata().getName())).toList();
        List<Pod> ready = pods.stream().filter(TargetResolver::canTakeUpdate).toList();
        if (ready.isEmpty()) {
            List<String> states = pods.stream().map(p -> p.getMetadata().getName() + " (" + describe(p) + ")").toList();
            return new Resolution.PodsNotReady(pods.stream().map(p -> podResult(p, List.of(), PodResult.State.Pending, describe(p))).toList(),
                    "none of the " + pods.size() + " pods matching " + selector + " is running with ready containers: "
                            + String.join(", ", states));
        }

        TreeMap<String, TreeSet<String>> podsByMissingNode = new TreeMap<>();
        List<Target> targets = new ArrayList<>();
        List<PodResult> results = new ArrayList<>();
        for (Pod pod : pods) {
            if (!canTakeUpdate(pod)) {
                results.add(podResult(pod, List.of(), PodResult.State.Skipped, "not taking part: " + describe(pod) + " at the start"));
                continue;
            }
            String node = pod.getSpec().getNodeName();
            Optional<AgentInfo> agent = agents.agent(node);
            String name = pod.getMetadata().getName();
            if (agent.isEmpty()) {
                podsByMissingNode.computeIfAbsent(node, n -> new TreeSet<>()).add(name);
                results.add(podResult(pod, List.of(), PodResult.State.Pending, "no agent on node " + node));
                continue;
            }
            Target target = target(namespace, pod, agent.get());
            targets.add(target);
            results.add(podResult(pod, target.gpus(), PodResult.State.Pending, null));
        }
        if (!podsByMissingNode.isEmpty()) {
            List<String> parts = new ArrayList<>();
            podsByMissingNode.forEach((node, names) -> parts.add(node + " (pods " + String.join(", ", names) + ")"));
            return new Resolution.AgentMissing(List.copyOf(podsByMissingNode.keySet()), results,
                    "no Weightlift agent reports from node" + (parts.size() > 1 ? "s " : " ") + String.join(", ", parts)
                            + ": is the agent DaemonSet running there?");
        }
        return new Resolution.Resolved(targets, results,
                targets.size() + " of " + pods.size() + " pods matching " + selector + " take part");
    }

    /** The target a running pod makes, served by {@code agent} (the agent of the pod's node). */
    public static Target target(String namespace, Pod pod, AgentInfo agent) {
        String name = pod.getMetadata().getName();
        List<String> gpus = agent.gpusOf(namespace, name);
        return new Target(namespace, name, pod.getMetadata().getUid(), pod.getSpec().getNodeName(), pod.getStatus().getPodIP(),
                gpus.isEmpty() ? annotatedGpus(pod) : gpus);
    }

    /** The GPUs the pod names in {@link WeightUpdate#GPUS_ANNOTATION}, or none. */
    static List<String> annotatedGpus(Pod pod) {
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        String value = annotations == null ? null : annotations.get(WeightUpdate.GPUS_ANNOTATION);
        if (value == null || value.isBlank()) {
            return List.of();
        }
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /** Running on a node with all containers ready and not terminating. */
    public static boolean canTakeUpdate(Pod pod) {
        return pod.getMetadata().getDeletionTimestamp() == null
                && pod.getSpec() != null && pod.getSpec().getNodeName() != null
                && pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase())
                && hasTrueCondition(pod, "ContainersReady");
    }

    /** Where a pod stands, e.g. {@code Pending}, {@code terminating}, {@code Running, containers not ready}. */
    public static String describe(Pod pod) {
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            return "terminating";
        }
        String phase = pod.getStatus() == null || pod.getStatus().getPhase() == null ? "Pending" : pod.getStatus().getPhase();
        if (!"Running".equals(phase)) {
            return phase;
        }
        if (pod.getSpec() == null || pod.getSpec().getNodeName() == null) {
            return "not scheduled";
        }
        return hasTrueCondition(pod, "ContainersReady") ? "ready" : "Running, containers not ready";
    }

    private static boolean hasTrueCondition(Pod pod, String type) {
        List<PodCondition> conditions = pod.getStatus() == null ? null : pod.getStatus().getConditions();
        return conditions != null && conditions.stream().anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static PodResult podResult(Pod pod, List<String> gpus, PodResult.State state, String message) {
        PodResult result = new PodResult();
        result.setName(pod.getMetadata().getName());
        result.setNode(pod.getSpec() == null ? null : pod.getSpec().getNodeName());
        result.setGpus(new ArrayList<>(gpus));
        result.setState(state);
        result.setMessage(message);
        return result;
    }
}
