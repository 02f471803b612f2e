package dev.weightlift.operator.reconciler.weightupdate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.Targets;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateStatus;
import dev.weightlift.operator.status.ConditionFactory;
import dev.weightlift.operator.testing.Golden;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden cases: {@code in-update.yaml} (the update with its current status) and {@code in-observation.yaml}
 * → {@code out-status.yaml}, with the clock fixed at {@value #NOW}.
 */
class WeightUpdateStatusFactoryTest {

    static final String NOW = "2026-01-01T12:00:00Z";

    static Stream<Path> scenarios() throws Exception {
        return Golden.scenarios(WeightUpdateStatusFactoryTest.class);
    }

    @Test
    void thePerPodListIsBoundedWhileTheCountsAreNot() {
        WeightUpdateStatusFactory factory = new WeightUpdateStatusFactory(
                new ConditionFactory(Clock.fixed(Instant.parse(NOW), ZoneOffset.UTC)));
        List<PodResult> pods = new ArrayList<>();
        for (int i = 0; i < WeightUpdateStatus.MAX_PODS + 44; i++) {
            PodResult pod = new PodResult();
            pod.setName(String.format("llm-%04d", i));
            pod.setState(i % 2 == 0 ? PodResult.State.Updated : PodResult.State.Failed);
            pods.add(pod);
        }
        WeightUpdate update = new WeightUpdate();
        update.getMetadata().setGeneration(1L);
        WeightUpdateStatus status = factory.status(update, Observation.of(Observation.Verdict.AgentMissing, "no agent", pods));
        assertEquals(WeightUpdateStatus.MAX_PODS, status.getPods().size());
        assertEquals("llm-0000", status.getPods().get(0).getName());
        assertEquals(new Targets(WeightUpdateStatus.MAX_PODS + 44, 150, 150), status.getTargets());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void statusIsTheGoldenOne(Path scenario) throws Exception {
        WeightUpdateStatusFactory factory = new WeightUpdateStatusFactory(
                new ConditionFactory(Clock.fixed(Instant.parse(NOW), ZoneOffset.UTC)));
        WeightUpdate update = Golden.read(scenario, "in-update.yaml", WeightUpdate.class);
        Observation observation = Golden.read(scenario, "in-observation.yaml", Observation.class);
        Golden.assertMatches(scenario, "out-status.yaml", factory.status(update, observation));
    }
}
