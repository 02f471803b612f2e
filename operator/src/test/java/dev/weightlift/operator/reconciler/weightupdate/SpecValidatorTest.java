package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.testing.Golden;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Golden cases: {@code in-update.yaml} → {@code out-problems.yaml} (empty list when valid). */
class SpecValidatorTest {

    static Stream<Path> scenarios() throws Exception {
        return Golden.scenarios(SpecValidatorTest.class);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void problemsAreTheGoldenOnes(Path scenario) throws Exception {
        WeightUpdate update = Golden.read(scenario, "in-update.yaml", WeightUpdate.class);
        Golden.assertMatches(scenario, "out-problems.yaml", SpecValidator.validate(update.getSpec()));
    }
}
