package dev.weightlift.operator.reconciler.scaleup;

import static dev.weightlift.operator.reconciler.scaleup.Updates.pod;
import static dev.weightlift.operator.reconciler.scaleup.Updates.update;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.ScaleUpPolicy;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.reconciler.weightupdate.AgentInfo;
import dev.weightlift.operator.reconciler.weightupdate.HeldVersion;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Which versions stay pinned: one row per update situation, then what each agent keeps. */
class PinnedVersionsTest {

    private static final List<Pod> PODS = List.of(pod("llm-0", "llm", "Running", "v1"), pod("chat-0", "chat", "Running", "v1"));

    static Stream<Arguments> situations() {
        WeightUpdate noScaleUp = update("u", "v1", "llm", 0, Phase.Succeeded, 1);
        noScaleUp.getSpec().setScaleUp(ScaleUpPolicy.None);
        WeightUpdate deleting = update("u", "v1", "llm", 0, Phase.Transferring, 1);
        deleting.getMetadata().setDeletionTimestamp("2026-01-01T12:05:00Z");
        return Stream.of(
                Arguments.of("succeeded with scaleUp P2P", List.of(update("u", "v1", "llm", 0, Phase.Succeeded, 1)), Set.of("v1")),
                Arguments.of("succeeded selecting no pod yet", List.of(update("u", "v1", "none", 0, Phase.Succeeded, 1)), Set.of("v1")),
                Arguments.of("succeeded with scaleUp None", List.of(noScaleUp), Set.of()),
                Arguments.of("no status yet", List.of(update("u", "v1", "llm", 0, null, 0)), Set.of()),
                Arguments.of("broadcast running: its run pins it", List.of(update("u", "v1", "llm", 0, Phase.Loading, 1)), Set.of()),
                Arguments.of("new generation not yet observed", List.of(update("u", "v1", "llm", 0, Phase.Succeeded, 0)), Set.of()),
                Arguments.of("failed", List.of(update("u", "v1", "llm", 0, Phase.Failed, 1)), Set.of()),
                Arguments.of("superseded", List.of(update("u", "v1", "llm", 0, Phase.Superseded, 1)), Set.of()),
                Arguments.of("being deleted", List.of(deleting), Set.of()),
                Arguments.of("succeeded, then a newer update for the same pods",
                        List.of(update("u1", "v1", "llm", 0, Phase.Succeeded, 1), update("u2", "v2", "llm", 10, Phase.Transferring, 1)),
                        Set.of()),
                Arguments.of("both succeeded: the newer one's pods hold its version",
                        List.of(update("u1", "v1", "llm", 0, Phase.Succeeded, 1), update("u2", "v2", "llm", 10, Phase.Succeeded, 1)),
                        Set.of("v2")),
                Arguments.of("two fleets, two versions",
                        List.of(update("u1", "v1", "llm", 0, Phase.Succeeded, 1), update("u2", "v2", "chat", 10, Phase.Succeeded, 1)),
                        Set.of("v1", "v2")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("situations")
    void neededVersions(String name, List<WeightUpdate> updates, Set<String> versions) {
        Set<HeldVersion> expected = versions.stream().map(v -> new HeldVersion("qwen", v)).collect(Collectors.toSet());
        assertEquals(expected, Set.copyOf(PinnedVersions.needed(updates, PODS)));
    }

    @Test
    void everyAgentKeepsWhatItHoldsOfTheNeededVersionsOnly() {
        List<WeightUpdate> updates = List.of(update("u1", "v1", "llm", 0, Phase.Succeeded, 1), update("u2", "v2", "chat", 10, Phase.Loading, 1));
        HeldVersion v0 = new HeldVersion("qwen", "v0");
        HeldVersion v1 = new HeldVersion("qwen", "v1");
        HeldVersion v2 = new HeldVersion("qwen", "v2");
        HeldVersion other = new HeldVersion("llama", "v1");
        List<AgentInfo> agents = List.of(
                new AgentInfo("node-a", List.of(), Map.of(), List.of(v0, v1, other)),
                new AgentInfo("node-b", List.of(), Map.of(), List.of(v2, v1)),
                new AgentInfo("node-c", List.of(), Map.of(), List.of(v0)));

        assertEquals(Map.of("node-a", Set.of(v1), "node-b", Set.of(v1), "node-c", Set.of()), PinnedVersions.keep(updates, PODS, agents));
    }
}
