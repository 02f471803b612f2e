package dev.weightlift.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.status.ConditionFactory;
import io.fabric8.kubernetes.api.model.Condition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An engine worker that fails mid-update fails the whole Broadcast with its own error in the status, its pod
 * marked Failed, no pod marked with the version, and every engine process still serving.
 */
class EngineFaultE2ETest {

    static final TinyCheckpoint.Shape SHAPE = new TinyCheckpoint.Shape(2048, 512, 4);

    @Test
    void aFailingEngineFailsTheUpdateNamingItAndNothingIsMarked() throws Exception {
        Path work = Files.createTempDirectory(Path.of("target"), "e2e-fault-").toAbsolutePath();
        try (LocalFleet fleet = LocalFleet.start(new LocalFleet.Options(2, 1, SHAPE, work,
                System.getProperty("weightlift.python", "/usr/bin/python3"), Path.of("../agent/python").toAbsolutePath().normalize(),
                System.getProperty("java.class.path"), Map.of(0, List.of("--fail-at-bucket", "1"))))) {
            TinyCheckpoint checkpoint = TinyCheckpoint.write(work.resolve("checkpoints").resolve("bad"), SHAPE, "bad");
            fleet.apply("bad", "bad", checkpoint, "4Mi", 60);
            WeightUpdate done = fleet.await("bad", u -> u.getStatus() != null && u.getStatus().getPhase() != null
                    && u.getStatus().getPhase().isTerminal(), Duration.ofSeconds(70));

            assertEquals(Phase.Failed, done.getStatus().getPhase());
            Condition ready = ConditionFactory.find(done.getStatus().getConditions(), "Ready").orElseThrow();
            assertEquals("EngineError", ready.getReason());
            assertTrue(ready.getMessage().contains("injected failure at bucket 1"), ready.getMessage());
            PodResult faulty = done.getStatus().getPods().stream().filter(p -> p.getName().equals("llm-node-0-0")).findFirst().orElseThrow();
            assertEquals(PodResult.State.Failed, faulty.getState());
            for (LocalFleet.EnginePod pod : fleet.pods()) {
                var annotations = fleet.client().pods().inNamespace(LocalFleet.NAMESPACE).withName(pod.name()).get().getMetadata().getAnnotations();
                assertNull(annotations.get(WeightUpdate.VERSION_ANNOTATION), pod.name());
            }
            assertTrue(fleet.enginesAlive(), "every engine keeps serving");
        }
    }
}
