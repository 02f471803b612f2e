package dev.weightlift.operator.reconciler.weightupdate;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.weightlift.operator.testing.Golden;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden cases: {@code in-pods.yaml} (the pods matching {@code app=llm} in namespace {@code rl}) and
 * {@code in-agents.yaml} (the agents by node) → {@code out-resolution.yaml}.
 */
class TargetResolverTest {

    static Stream<Path> scenarios() throws Exception {
        return Golden.scenarios(TargetResolverTest.class);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void resolutionIsTheGoldenOne(Path scenario) throws Exception {
        List<Pod> pods = Golden.YAML.readValue(scenario.resolve("in-pods.yaml").toFile(), new TypeReference<List<Pod>>() { });
        List<AgentInfo> agents = Golden.YAML.readValue(scenario.resolve("in-agents.yaml").toFile(), new TypeReference<List<AgentInfo>>() { });
        PodSelector selector = PodSelector.parse(new LabelSelectorBuilder().withMatchLabels(Map.of("app", "llm")).build(), "spec.selector",
                new ArrayList<>());
        AgentDirectory directory = new AgentDirectory() {
            @Override
            public Optional<AgentInfo> agent(String node) {
                return agents.stream().filter(a -> a.node().equals(node)).findFirst();
            }

            @Override
            public List<AgentInfo> agents() {
                return agents;
            }
        };
        Resolution resolution = TargetResolver.resolve("rl", selector, pods, directory);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("kind", resolution.getClass().getSimpleName());
        out.put("resolution", resolution);
        Golden.assertMatches(scenario, "out-resolution.yaml", out);
    }
}
