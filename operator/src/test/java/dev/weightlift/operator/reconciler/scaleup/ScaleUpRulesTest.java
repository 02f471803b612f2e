package dev.weightlift.operator.reconciler.scaleup;

import static dev.weightlift.operator.reconciler.scaleup.Updates.pod;
import static dev.weightlift.operator.reconciler.scaleup.Updates.update;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.ScaleUpPolicy;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Which updates fill late joiners, and which of their pods need a scale-up: a table each. */
class ScaleUpRulesTest {

    static Stream<Arguments> updates() {
        WeightUpdate noScaleUp = update("u", "v2", "llm", 0, Phase.Succeeded, 1);
        noScaleUp.getSpec().setScaleUp(ScaleUpPolicy.None);
        WeightUpdate deleting = update("u", "v2", "llm", 0, Phase.Succeeded, 1);
        deleting.getMetadata().setDeletionTimestamp("2026-01-01T12:05:00Z");
        return Stream.of(
                Arguments.of("succeeded for its generation", update("u", "v2", "llm", 0, Phase.Succeeded, 1), null),
                Arguments.of("no status yet", update("u", "v2", "llm", 0, null, 0), "the update has not succeeded for generation 1"),
                Arguments.of("broadcast running", update("u", "v2", "llm", 0, Phase.Transferring, 1), "the update has not succeeded for generation 1"),
                Arguments.of("succeeded for an older generation", update("u", "v2", "llm", 0, Phase.Succeeded, 0),
                        "the update has not succeeded for generation 1"),
                Arguments.of("failed", update("u", "v2", "llm", 0, Phase.Failed, 1), "the update has not succeeded for generation 1"),
                Arguments.of("scaleUp None", noScaleUp, "spec.scaleUp is not P2P"),
                Arguments.of("being deleted", deleting, "the update is being deleted"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("updates")
    void anUpdateFillsLateJoinersOnlyOnceSucceededWithScaleUpP2p(String name, WeightUpdate update, String why) {
        assertEquals(Optional.ofNullable(why), ScaleUpRules.ineligible(update));
    }

    @Test
    void eachSelectedPodGetsItsNeed() {
        WeightUpdate update = update("u2", "v2", "llm", 10, Phase.Succeeded, 1);
        WeightUpdate older = update("u1", "v1", "llm", 0, Phase.Succeeded, 1);
        WeightUpdate newerForCanary = update("u3", "v3", "canary", 20, Phase.Transferring, 1);
        Pod terminating = pod("e-terminating", "llm", "Running", null);
        terminating.getMetadata().setDeletionTimestamp("2026-01-01T12:05:00Z");
        Pod canary = pod("f-canary", "llm", "Running", "v2");
        canary.getMetadata().setLabels(Map.of("app", "llm", "track", "canary"));
        Pod canaryNew = pod("g-canary-new", "llm", "Running", null);
        canaryNew.getMetadata().setLabels(Map.of("app", "llm", "track", "canary"));
        newerForCanary.getSpec().getSelector().setMatchLabels(Map.of("track", "canary"));

        List<Pod> selected = List.of(
                pod("h-older-version", "llm", "Running", "v1"),
                pod("a-holds", "llm", "Running", "v2"),
                pod("b-new", "llm", "Running", null),
                pod("c-pending", "llm", "Pending", null),
                pod("d-not-ready", "llm", "Running", null).edit().editStatus()
                        .editFirstCondition().withStatus("False").endCondition().endStatus().build(),
                terminating, canary, canaryNew);

        List<String> decisions = ScaleUpRules.decide(update, selected, List.of(older, update, newerForCanary)).stream()
                .map(d -> d.name() + " " + d.need() + " " + d.detail()).toList();

        assertEquals(List.of(
                "a-holds HOLDS holds version v2",
                "b-new SCALE_UP holds no version",
                "c-pending NOT_READY Pending",
                "d-not-ready NOT_READY Running, containers not ready",
                "e-terminating NOT_READY terminating",
                "f-canary HOLDS holds version v2",
                "g-canary-new TAKEN_OVER selected by the newer WeightUpdate u3 (version v3)",
                "h-older-version SCALE_UP holds version v1"), decisions);
    }
}
