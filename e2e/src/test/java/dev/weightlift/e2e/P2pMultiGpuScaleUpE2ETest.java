package dev.weightlift.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A pod whose engine spans two GPUs joins later: its node's agent reads the version by P2P once, then the
 * pipeline broadcasts each bucket to both GPUs through the host collective; every byte of both workers checked.
 */
class P2pMultiGpuScaleUpE2ETest {

    static final TinyCheckpoint.Shape SHAPE = new TinyCheckpoint.Shape(2048, 512, 4);
    static final Duration DEADLINE = Duration.ofSeconds(90);

    static Path work;
    static LocalFleet fleet;

    @BeforeAll
    static void startFleet() throws Exception {
        work = Files.createTempDirectory(Path.of("target"), "e2e-p2p2-");
        fleet = LocalFleet.start(new LocalFleet.Options(1, 2, SHAPE, work.toAbsolutePath(),
                System.getProperty("weightlift.python", "/usr/bin/python3"), Path.of("../agent/python").toAbsolutePath().normalize(),
                System.getProperty("java.class.path"), Map.of(), 2));
    }

    @AfterAll
    static void stopFleet() {
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void aTwoGpuPodJoiningLaterIsFilledByP2pAndTheHostCollective() throws Exception {
        TinyCheckpoint checkpoint = TinyCheckpoint.write(work.resolve("checkpoints").resolve("v1"), SHAPE, "v1");
        fleet.apply("v1", "v1", checkpoint, "4Mi", (int) DEADLINE.toSeconds());
        WeightUpdate done = fleet.await("v1", u -> u.getStatus() != null && u.getStatus().getPhase() != null
                && u.getStatus().getPhase().isTerminal(), DEADLINE.plusSeconds(10));
        assertEquals(Phase.Succeeded, done.getStatus().getPhase(), () -> "conditions: " + done.getStatus().getConditions());
        Map<String, Double> fleetBefore = fleet.agentCounters("node-0", P2pScaleUpE2ETest.PIPELINE_BYTES);

        LocalFleet.EnginePod joined = fleet.addNodes(List.of("node-1"), 2).get(0);
        WeightUpdate filled = fleet.await("v1", u -> u.getStatus().getPods().stream()
                .anyMatch(p -> p.getName().equals(joined.name()) && p.getState() == PodResult.State.Updated), DEADLINE);
        PodResult entry = filled.getStatus().getPods().stream().filter(p -> p.getName().equals(joined.name())).findFirst().orElseThrow();
        assertTrue(entry.getMessage().contains("by P2P from node node-0"), entry::getMessage);

        LocalFleet.Verification verification = fleet.verify(checkpoint, "v1");
        assertTrue(verification.ok(), () -> String.join("\n", verification.problems()));
        assertEquals(4, verification.workers());
        assertEquals(4 * checkpoint.bytes(), verification.bytesChecked());
        assertEquals(fleetBefore, fleet.agentCounters("node-0", P2pScaleUpE2ETest.PIPELINE_BYTES), "the serving engine saw no byte");
        Map<String, Double> joinedCounters = fleet.agentCounters("node-1", "weightlift_");
        assertEquals(checkpoint.bytes(), joinedCounters.get(P2pScaleUpE2ETest.P2P_BYTES), "read once by P2P for both GPUs");
        for (String gpu : joined.gpus()) {
            assertEquals(fleetBefore.values().iterator().next(), joinedCounters.get(P2pScaleUpE2ETest.PIPELINE_BYTES + "{gpu=\"" + gpu + "\"}"),
                    "GPU " + gpu + " of the new pod received the whole checkpoint");
        }
    }
}
