package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.status.ConditionFactory;
import dev.weightlift.operator.testing.Golden;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.stream.Stream;
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
