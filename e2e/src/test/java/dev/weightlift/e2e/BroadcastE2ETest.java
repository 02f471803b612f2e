package dev.weightlift.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.api.v1alpha1.EngineProtocol;
import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.VerifyMode;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.operator.status.ConditionFactory;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole Broadcast flow on one machine: the operator in-process against the mock API server, four agent
 * JVMs on the host backend (two fake GPUs each), eight engine processes; two versions in a row, every byte
 * of every engine checked against the checkpoint files.
 */
class BroadcastE2ETest {

    static final TinyCheckpoint.Shape SHAPE = new TinyCheckpoint.Shape(4096, 1024, 8);
    static final Duration UPDATE_DEADLINE = Duration.ofSeconds(90);

    static Path work;
    static LocalFleet fleet;

    @BeforeAll
    static void startFleet() throws Exception {
        work = Files.createTempDirectory(Path.of("target"), "e2e-");
        fleet = LocalFleet.start(new LocalFleet.Options(4, 2, SHAPE, work.toAbsolutePath(),
                System.getProperty("weightlift.python", "/usr/bin/python3"), Path.of("../agent/python").toAbsolutePath().normalize(),
                System.getProperty("java.class.path")));
    }

    @AfterAll
    static void stopFleet() {
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void fleetOfFourNodesTakesTwoVersionsEveryByteChecked() throws Exception {
        for (String version : new String[] {"step-1", "step-2"}) {
            TinyCheckpoint checkpoint = TinyCheckpoint.write(work.resolve("checkpoints").resolve(version), SHAPE, version);
            fleet.apply(version, version, checkpoint, "16Mi", (int) UPDATE_DEADLINE.toSeconds());
            WeightUpdate done = fleet.await(version, u -> u.getStatus() != null && u.getStatus().getPhase() != null
                    && u.getStatus().getPhase().isTerminal(), UPDATE_DEADLINE.plusSeconds(10));
            assertEquals(Phase.Succeeded, done.getStatus().getPhase(), () -> "status: " + done.getStatus());

            LocalFleet.Verification verification = fleet.verify(checkpoint, version);
            assertTrue(verification.ok(), () -> String.join("\n", verification.problems()));
            assertEquals(8, verification.workers());
            assertEquals(8 * checkpoint.bytes(), verification.bytesChecked());

            assertEquals(100, done.getStatus().getProgress().getPercent());
            assertEquals(checkpoint.bytes(), done.getStatus().getProgress().getBytesDone());
            assertNotNull(done.getStatus().getTimings().getLoadMillis());
            assertNotNull(done.getStatus().getTimings().getTransferMillis());
            assertEquals(8, done.getStatus().getPods().stream().filter(p -> p.getState() == PodResult.State.Updated).count());
            assertPodsMarked(version);
        }
    }

    /**
     * A newer update of the same pods, applied while the older one is still in flight, supersedes it: the
     * older is aborted and awaited before the newer touches an engine, and every engine ends with the newer.
     */
    @Test
    void newerUpdateSupersedesOneInFlight() throws Exception {
        TinyCheckpoint older = TinyCheckpoint.write(work.resolve("checkpoints").resolve("sup-a"), SHAPE, "sup-a");
        TinyCheckpoint newer = TinyCheckpoint.write(work.resolve("checkpoints").resolve("sup-b"), SHAPE, "sup-b");
        fleet.apply("sup-a", "sup-a", older, "16Mi", (int) UPDATE_DEADLINE.toSeconds());
        fleet.await("sup-a", u -> u.getStatus() != null && u.getStatus().getPhase() != null, UPDATE_DEADLINE);
        fleet.apply("sup-b", "sup-b", newer, "16Mi", (int) UPDATE_DEADLINE.toSeconds());

        WeightUpdate done = fleet.await("sup-b", u -> u.getStatus() != null && u.getStatus().getPhase() != null
                && u.getStatus().getPhase().isTerminal(), UPDATE_DEADLINE.plusSeconds(10));
        assertEquals(Phase.Succeeded, done.getStatus().getPhase(), () -> "status: " + done.getStatus());
        WeightUpdate superseded = fleet.await("sup-a", u -> u.getStatus().getPhase().isTerminal(), UPDATE_DEADLINE);
        assertTrue(superseded.getStatus().getPhase() == Phase.Superseded || superseded.getStatus().getPhase() == Phase.Succeeded,
                () -> "older update: " + superseded.getStatus().getPhase());
        LocalFleet.Verification verification = fleet.verify(newer, "sup-b");
        assertTrue(verification.ok(), () -> String.join("\n", verification.problems()));
        assertPodsMarked("sup-b");
    }

    /**
     * {@code verify: Checksum}: each bucket's owner checksums it from its host store while preparing, every
     * engine worker (those that get the bucket by broadcast too) checks what it received against it; a clean
     * run succeeds with every byte in place.
     */
    @Test
    void verifiedUpdateSucceedsEveryByteChecked() throws Exception {
        TinyCheckpoint checkpoint = TinyCheckpoint.write(work.resolve("checkpoints").resolve("crc"), SHAPE, "crc");
        fleet.apply("crc", "crc", checkpoint, "16Mi", (int) UPDATE_DEADLINE.toSeconds(), spec -> spec.setVerify(VerifyMode.Checksum));
        WeightUpdate done = fleet.await("crc", u -> u.getStatus() != null && u.getStatus().getPhase() != null
                && u.getStatus().getPhase().isTerminal(), UPDATE_DEADLINE.plusSeconds(10));
        assertEquals(Phase.Succeeded, done.getStatus().getPhase(), () -> "status: " + done.getStatus());
        LocalFleet.Verification verification = fleet.verify(checkpoint, "crc");
        assertTrue(verification.ok(), () -> String.join("\n", verification.problems()));
        assertEquals(8 * checkpoint.bytes(), verification.bytesChecked());
        assertPodsMarked("crc");
    }

    /**
     * {@code engine.protocol: checkpoint-engine} on agents of the host backend: every agent refuses to prepare
     * (the protocol's workers open the shared buffer only as a CUDA IPC handle), and the update fails with that
     * reason and the agent's message, touching no engine.
     */
    @Test
    void checkpointEngineOnTheHostBackendFailsAsUnsupported() throws Exception {
        TinyCheckpoint checkpoint = TinyCheckpoint.write(work.resolve("checkpoints").resolve("ce"), SHAPE, "ce");
        fleet.apply("ce", "ce", checkpoint, "16Mi", (int) UPDATE_DEADLINE.toSeconds(),
                spec -> spec.getEngine().setProtocol(EngineProtocol.CHECKPOINT_ENGINE));
        WeightUpdate done = fleet.await("ce", u -> u.getStatus() != null && u.getStatus().getPhase() != null
                && u.getStatus().getPhase().isTerminal(), UPDATE_DEADLINE);
        assertEquals(Phase.Failed, done.getStatus().getPhase(), () -> "status: " + done.getStatus());
        Condition ready = ConditionFactory.find(done.getStatus().getConditions(), "Ready").orElseThrow();
        assertEquals("EngineProtocolUnsupported", ready.getReason());
        assertTrue(ready.getMessage().contains("engine.protocol checkpoint-engine requires the cuda backend")
                && ready.getMessage().contains("host backend"), ready.getMessage());
        assertTrue(fleet.enginesAlive(), "every engine keeps serving");
    }

    private static void assertPodsMarked(String version) {
        for (LocalFleet.EnginePod enginePod : fleet.pods()) {
            Pod pod = fleet.client().pods().inNamespace(LocalFleet.NAMESPACE).withName(enginePod.name()).get();
            assertEquals(version, pod.getMetadata().getAnnotations().get(WeightUpdate.VERSION_ANNOTATION), enginePod.name());
            assertTrue(pod.getStatus().getConditions().stream().anyMatch(c -> c.getType().equals(WeightUpdate.WEIGHTS_READY_CONDITION)
                    && c.getStatus().equals("True") && c.getMessage().contains(version)), enginePod.name());
        }
    }
}
