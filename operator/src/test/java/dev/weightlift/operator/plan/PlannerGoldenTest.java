package dev.weightlift.operator.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Whole plans for small fleets: {@code in.yaml} is a {@link PlanRequest}, {@code out.yaml} the {@link Plan}. */
class PlannerGoldenTest {

    static Stream<String> scenarios() {
        return Golden.scenarios(PlannerGoldenTest.class).stream();
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void plan(String scenario) throws Exception {
        PlanRequest request = Golden.read(PlannerGoldenTest.class, scenario, PlanRequest.class);
        Plan plan = Planner.plan(request);
        Golden.check(PlannerGoldenTest.class, scenario, plan);
        String json = Golden.YAML.writeValueAsString(plan);
        assertEquals(plan, Golden.YAML.readValue(json, Plan.class), "plan survives serialization");
    }
}
