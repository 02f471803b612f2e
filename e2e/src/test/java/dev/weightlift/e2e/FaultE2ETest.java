package dev.weightlift.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.ScaleUpPolicy;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateSpec;
import dev.weightlift.operator.status.ConditionFactory;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Faults injected into one running fleet (two nodes, one engine each), in an order that keeps the fleet usable
 * for the next: a truncated checkpoint file, an engine that stops answering, a deletion mid-transfer, an engine
 * killed mid-update, an agent killed mid-broadcast. For each: the update ends within its deadline with a reason
 * naming the fault, no pod is marked with a version its engine does not fully hold (a pod that may hold part of
 * one is flagged as needing an update), a pod still marked holds exactly that version, and the agents' file
 * descriptors and host store bytes come back to their level before the update. After the recoverable faults a
 * new update succeeds on the same fleet.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultE2ETest {

    /**
     * Scale-up off: a cancelled update flags its pods as needing an update, and with scale-up on the older
     * succeeded update would refill them by P2P (as it should), which would move bytes this suite measures.
     */
    private static final Consumer<WeightUpdateSpec> NO_SCALE_UP = spec -> spec.setScaleUp(ScaleUpPolicy.None);

    static final TinyCheckpoint.Shape SHAPE = new TinyCheckpoint.Shape(2048, 512, 4);
    static final String POD_0 = "llm-node-0-0";
    static final String POD_1 = "llm-node-1-0";
    static final Duration SETTLE = Duration.ofSeconds(20);

    /** Update names sort in the order of creation: updates created in the same second are ordered by name. */
    static Path work;
    static LocalFleet fleet;
    static final Map<String, TinyCheckpoint> checkpoints = new HashMap<>();
    static Map<String, LocalFleet.AgentUsage> usageBefore;

    @BeforeAll
    static void startFleetAtVersionOne() throws Exception {
        work = Files.createTempDirectory(Path.of("target"), "e2e-faults-").toAbsolutePath();
        fleet = LocalFleet.start(new LocalFleet.Options(2, 1, SHAPE, work, System.getProperty("weightlift.python", "/usr/bin/python3"),
                Path.of("../agent/python").toAbsolutePath().normalize(), System.getProperty("java.class.path")));
        assertSucceeds("a-v1", 60);
    }

    @AfterAll
    static void stopFleet() {
        if (fleet != null) {
            fleet.close();
        }
    }

    @AfterEach
    void clearFaults() throws IOException {
        for (LocalFleet.EnginePod pod : fleet.pods()) {
            fleet.injectEngineFault(pod.name(), "");
        }
    }

    @Test
    @Order(1)
    void checkpointTruncatedAfterItsHeaderFailsTheLoadNamingTheFile() throws Exception {
        usageBefore = usage(List.of("node-0", "node-1"));
        TinyCheckpoint checkpoint = checkpoint("b-trunc");
        List<Path> truncated = truncateData(checkpoint);
        WeightUpdate done = applyAndAwaitEnd("b-trunc", checkpoint, 30);

        assertEquals(Phase.Failed, done.getStatus().getPhase());
        String message = ready(done).getMessage();
        assertTrue(truncated.stream().anyMatch(file -> message.contains(file.getFileName() + ": tensor '")),
                "the message names a truncated file and its tensor: " + message);
        assertMarkedOnlyWithWhatIsHeld("a-v1");
        assertPodMarked(POD_0, "a-v1");
        assertPodMarked(POD_1, "a-v1");
        assertResourcesBack(List.of("node-0", "node-1"), 0);
    }

    @Test
    @Order(2)
    void engineThatStopsAnsweringFailsAtTheDeadlineAndTheFleetRecovers() throws Exception {
        usageBefore = usage(List.of("node-0", "node-1"));
        fleet.injectEngineFault(POD_0, "hang");
        long start = System.nanoTime();
        WeightUpdate done = applyAndAwaitEnd("c-hang", checkpoint("c-hang"), 15);
        long seconds = (System.nanoTime() - start) / 1_000_000_000;

        assertEquals(Phase.Failed, done.getStatus().getPhase());
        assertTrue(seconds <= 15 + 10, "ended after " + seconds + " s");
        assertEquals("Timeout", ready(done).getReason(), ready(done).getMessage());
        assertFlaggedNeedsUpdate(POD_0);
        assertFlaggedNeedsUpdate(POD_1);
        assertMarkedOnlyWithWhatIsHeld(null);
        fleet.injectEngineFault(POD_0, "");
        assertResourcesBack(List.of("node-0", "node-1"), 0);
        assertSucceeds("d-v2", 60);
    }

    /**
     * The rollback procedure: a failed update answered by a WeightUpdate of the previous version, which the
     * agents still hold in host memory. The previous version's files are truncated first (headers intact), so
     * the update can only succeed from host memory; the status names the version each pod holds.
     */
    @Test
    @Order(3)
    void aFailedUpdateIsAnsweredByTheRetainedPreviousVersionFromHostMemory() throws Exception {
        fleet.injectEngineFault(POD_1, "fail");
        WeightUpdate failed = applyAndAwaitEnd("e-bad", checkpoint("e-bad"), 30);
        assertEquals(Phase.Failed, failed.getStatus().getPhase());
        assertFlaggedNeedsUpdate(POD_1);
        fleet.injectEngineFault(POD_1, "");
        truncateData(checkpoints.get("d-v2"));

        WeightUpdate rollback = applyAndAwaitEnd("e-rollback", "d-v2", checkpoints.get("d-v2"), 30);
        assertEquals(Phase.Succeeded, rollback.getStatus().getPhase(), () -> "status: " + ready(rollback).getMessage());
        for (PodResult pod : rollback.getStatus().getPods()) {
            assertEquals("d-v2", pod.getVersion(), pod.getName());
        }
        assertMarkedOnlyWithWhatIsHeld("d-v2");
    }

    @Test
    @Order(4)
    void deletingAnUpdateMidTransferStopsItAndFlagsThePods() throws Exception {
        usageBefore = usage(List.of("node-0", "node-1"));
        fleet.injectEngineFault(POD_0, "delay 2");
        fleet.injectEngineFault(POD_1, "delay 2");
        fleet.apply("f-cancel", "f-cancel", checkpoint("f-cancel"), "4Mi", 60, NO_SCALE_UP);
        fleet.await("f-cancel", u -> u.getStatus() != null && u.getStatus().getPhase() == Phase.Transferring, Duration.ofSeconds(30));
        fleet.client().resource(fleet.get("f-cancel")).delete();
        Waits.until("the deleted update is gone", SETTLE, () -> fleet.get("f-cancel") == null);
        Waits.until("both pods flagged as needing an update", SETTLE,
                () -> needsUpdate(pod(POD_0)) && needsUpdate(pod(POD_1)));

        assertMarkedOnlyWithWhatIsHeld(null);
        fleet.injectEngineFault(POD_0, "");
        fleet.injectEngineFault(POD_1, "");
        assertResourcesBack(List.of("node-0", "node-1"), 0);
        assertSucceeds("g-v3", 60);
    }

    @Test
    @Order(5)
    void engineKilledMidUpdateFailsItsPodAndNoPodIsMarked() throws Exception {
        usageBefore = usage(List.of("node-0", "node-1"));
        fleet.injectEngineFault(POD_0, "die");
        WeightUpdate done = applyAndAwaitEnd("h-die", checkpoint("h-die"), 30);

        assertEquals(Phase.Failed, done.getStatus().getPhase());
        assertTrue(!fleet.engineAlive(POD_0), "the engine died as injected");
        PodResult killed = podResult(done, POD_0);
        assertEquals(PodResult.State.Failed, killed.getState(), killed.getMessage());
        assertTrue(ready(done).getMessage().contains("node-0"), ready(done).getMessage());
        assertFlaggedNeedsUpdate(POD_0);
        assertFlaggedNeedsUpdate(POD_1);
        assertTrue(fleet.engineAlive(POD_1), "the other engine keeps serving");
        assertResourcesBack(List.of("node-0", "node-1"), 0);
        // The pod of the dead engine goes (its kubelet would restart it); the rest of the fleet takes the next version.
        fleet.client().pods().inNamespace(LocalFleet.NAMESPACE).withName(POD_0).delete();
        Waits.until("pod " + POD_0 + " gone", SETTLE, () -> pod(POD_0) == null);
        assertSucceeds("i-v4", 60);
    }

    /**
     * The control connection goes silent mid-transfer (the agent frozen with SIGSTOP, as when the network is cut):
     * the hub declares the agent gone after its heartbeat timeout and the update fails naming the node; thawed,
     * the agent registers again and the next update succeeds.
     */
    @Test
    @Order(6)
    void controlConnectionLostMidTransferFailsTheUpdateAndTheAgentComesBack() throws Exception {
        fleet.injectEngineFault(POD_1, "delay 2");
        fleet.apply("j-frozen", "j-frozen", checkpoint("j-frozen"), "4Mi", 30, NO_SCALE_UP);
        fleet.await("j-frozen", u -> u.getStatus() != null && u.getStatus().getPhase() == Phase.Transferring, Duration.ofSeconds(30));
        long start = System.nanoTime();
        fleet.freezeAgent("node-1", true);
        WeightUpdate done;
        try {
            done = fleet.await("j-frozen", u -> u.getStatus().getPhase().isTerminal(), Duration.ofSeconds(40));
        } finally {
            fleet.freezeAgent("node-1", false);
        }
        long seconds = (System.nanoTime() - start) / 1_000_000_000;

        assertEquals(Phase.Failed, done.getStatus().getPhase());
        assertTrue(seconds <= 30, "ended after " + seconds + " s");
        assertTrue(ready(done).getMessage().contains("node-1"), ready(done).getMessage());
        assertFlaggedNeedsUpdate(POD_1);
        fleet.injectEngineFault(POD_1, "");
        Waits.until("the agent of node-1 registered again", SETTLE, () -> fleet.agentConnected("node-1"));
        assertSucceeds("k-after-frozen", 60);
    }

    /**
     * The operator restarted mid-transfer (its runs end without a final status): the fresh operator finds the
     * update unfinished and runs it again under the same id; the agents drop what the old operator left prepared,
     * so the update ends within its deadline, and the next one succeeds.
     */
    @Test
    @Order(7)
    void operatorRestartedMidUpdateEndsTheUpdateWithinItsDeadline() throws Exception {
        fleet.injectEngineFault(POD_1, "delay 20");
        long start = System.nanoTime();
        fleet.apply("kr-restart", "kr-restart", checkpoint("kr-restart"), "4Mi", 60, NO_SCALE_UP);
        fleet.await("kr-restart", u -> u.getStatus() != null && u.getStatus().getPhase() == Phase.Transferring, Duration.ofSeconds(30));
        fleet.restartOperator();
        fleet.injectEngineFault(POD_1, "");
        WeightUpdate done = fleet.await("kr-restart", u -> u.getStatus().getPhase().isTerminal(), Duration.ofSeconds(75));
        long seconds = (System.nanoTime() - start) / 1_000_000_000;

        assertTrue(seconds <= 60 + 10, "ended after " + seconds + " s");
        if (done.getStatus().getPhase() == Phase.Succeeded) {
            assertMarkedOnlyWithWhatIsHeld("kr-restart");
        } else {
            assertEquals(Phase.Failed, done.getStatus().getPhase());
            assertFlaggedNeedsUpdate(POD_1);
            assertMarkedOnlyWithWhatIsHeld(null);
        }
        System.out.println("operator restart: " + done.getStatus().getPhase() + " after " + seconds + " s: " + ready(done).getMessage());
        assertSucceeds("kz-after-restart", 60);
    }

    /**
     * The shared-memory directory of one node is full (a 1 MiB tmpfs, mounted when the test may mount, skipped
     * otherwise, as its WEIGHTLIFT_SHM_DIR): the shared buffer the pipeline needs cannot be allocated; the agent
     * turns that into an error instead of crashing, the update fails naming the node and the directory, no pod is
     * marked with the new version, and the agent's resources come back to their level.
     */
    @Test
    @Order(8)
    void aFullSharedMemoryDirectoryFailsTheUpdateNamingNodeAndDirectory() throws Exception {
        Path shm = Files.createDirectories(work.resolve("shm-full"));
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", shm.toString()) == 0, "mounting a tmpfs is not permitted here");
        try {
            fleet.restartAgent("node-1", Map.of("WEIGHTLIFT_SHM_DIR", shm.toString()));
            usageBefore = usage(List.of("node-1"));
            WeightUpdate done = applyAndAwaitEnd("kx-shm-full", checkpoint("kx-shm-full"), 30);

            assertEquals(Phase.Failed, done.getStatus().getPhase());
            String message = ready(done).getMessage();
            assertTrue(message.contains("node-1") && message.contains(shm.toString()), message);
            assertTrue(fleet.agentConnected("node-1"), "the agent is still running");
            assertNotEquals("kx-shm-full", pod(POD_1).getMetadata().getAnnotations().get(WeightUpdate.VERSION_ANNOTATION));
            assertMarkedOnlyWithWhatIsHeld(pod(POD_1).getMetadata().getAnnotations().get(WeightUpdate.VERSION_ANNOTATION));
            assertResourcesBack(List.of("node-1"), 0);
            System.out.println("shared memory full: " + message);
        } finally {
            fleet.restartAgent("node-1", Map.of());
            run("umount", shm.toString());
        }
        assertSucceeds("ky-after-shm-full", 60);
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return -1;
        }
        return process.exitValue();
    }

    @Test
    @Order(9)
    void agentKilledMidBroadcastFailsTheUpdateNamingTheNode() throws Exception {
        fleet.injectEngineFault(POD_1, "delay 2");
        long start = System.nanoTime();
        fleet.apply("l-agent-kill", "l-agent-kill", checkpoint("l-agent-kill"), "4Mi", 30, NO_SCALE_UP);
        fleet.await("l-agent-kill", u -> u.getStatus() != null && u.getStatus().getPhase() == Phase.Transferring, Duration.ofSeconds(30));
        fleet.killAgent("node-1");
        WeightUpdate done = fleet.await("l-agent-kill", u -> u.getStatus().getPhase().isTerminal(), Duration.ofSeconds(40));
        long seconds = (System.nanoTime() - start) / 1_000_000_000;

        assertEquals(Phase.Failed, done.getStatus().getPhase());
        assertTrue(seconds <= 30 + 10, "ended after " + seconds + " s");
        assertTrue(ready(done).getMessage().contains("node-1"), ready(done).getMessage());
        assertNotEquals("l-agent-kill", pod(POD_1).getMetadata().getAnnotations().get(WeightUpdate.VERSION_ANNOTATION));
        assertFlaggedNeedsUpdate(POD_1);
        assertTrue(fleet.engineAlive(POD_1), "the engine outlives its agent");
    }

    /** Cuts every file of the checkpoint to half its length (its header stays whole); returns them, sorted. */
    private static List<Path> truncateData(TinyCheckpoint checkpoint) throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(checkpoint.directory())) {
            files = list.filter(f -> f.toString().endsWith(".safetensors")).sorted().toList();
        }
        for (Path file : files) {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(raf.length() / 2);
            }
        }
        return files;
    }

    private static TinyCheckpoint checkpoint(String version) throws IOException {
        TinyCheckpoint checkpoint = TinyCheckpoint.write(work.resolve("checkpoints").resolve(version), SHAPE, version);
        checkpoints.put(version, checkpoint);
        return checkpoint;
    }

    private static WeightUpdate applyAndAwaitEnd(String version, TinyCheckpoint checkpoint, int timeoutSeconds) throws Exception {
        return applyAndAwaitEnd(version, version, checkpoint, timeoutSeconds);
    }

    private static WeightUpdate applyAndAwaitEnd(String name, String version, TinyCheckpoint checkpoint, int timeoutSeconds)
            throws Exception {
        fleet.apply(name, version, checkpoint, "4Mi", timeoutSeconds, NO_SCALE_UP);
        return fleet.await(name, u -> u.getStatus() != null && u.getStatus().getPhase() != null && u.getStatus().getPhase().isTerminal(),
                Duration.ofSeconds(timeoutSeconds + 15L));
    }

    private static void assertSucceeds(String version, int timeoutSeconds) throws Exception {
        WeightUpdate done = applyAndAwaitEnd(version, checkpoint(version), timeoutSeconds);
        assertEquals(Phase.Succeeded, done.getStatus().getPhase(), () -> "status: " + ready(done).getMessage());
        assertMarkedOnlyWithWhatIsHeld(version);
    }

    /**
     * Every live pod marked with a version holds every byte of it (checked in its engine), and none is marked
     * with a version other than {@code expected} (null: none marked at all).
     */
    private static void assertMarkedOnlyWithWhatIsHeld(String expected) throws Exception {
        for (LocalFleet.EnginePod enginePod : fleet.pods()) {
            Pod pod = pod(enginePod.name());
            if (pod == null) {
                continue;
            }
            String marked = pod.getMetadata().getAnnotations().get(WeightUpdate.VERSION_ANNOTATION);
            assertEquals(expected, marked, enginePod.name());
            if (marked != null) {
                LocalFleet.Verification verification = fleet.verify(checkpoints.get(marked), marked,
                        p -> p.name().equals(enginePod.name()));
                assertTrue(verification.ok(), () -> String.join("\n", verification.problems()));
            }
        }
    }

    private static void assertPodMarked(String name, String version) {
        PodCondition condition = weightsReady(pod(name));
        assertEquals("True", condition.getStatus(), name);
        assertTrue(condition.getMessage().contains(version), condition.getMessage());
    }

    /** The operator flags the pods just after it writes the update's final status. */
    private static void assertFlaggedNeedsUpdate(String name) throws Exception {
        try {
            Waits.until("pod " + name + " flagged as needing an update", SETTLE, () -> needsUpdate(pod(name)));
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError(name + ": " + pod(name).getStatus().getConditions(), e);
        }
    }

    private static boolean needsUpdate(Pod pod) {
        PodCondition condition = weightsReady(pod);
        return condition != null && "False".equals(condition.getStatus()) && "UpdateIncomplete".equals(condition.getReason())
                && pod.getMetadata().getAnnotations().get(WeightUpdate.VERSION_ANNOTATION) == null;
    }

    private static PodCondition weightsReady(Pod pod) {
        List<PodCondition> found = pod.getStatus().getConditions().stream()
                .filter(c -> WeightUpdate.WEIGHTS_READY_CONDITION.equals(c.getType())).toList();
        assertTrue(found.size() <= 1, () -> pod.getMetadata().getName() + " has " + found.size() + " weights-ready conditions");
        return found.isEmpty() ? null : found.get(0);
    }

    private static Pod pod(String name) {
        return fleet.client().pods().inNamespace(LocalFleet.NAMESPACE).withName(name).get();
    }

    private static Condition ready(WeightUpdate update) {
        return ConditionFactory.find(update.getStatus().getConditions(), "Ready").orElseThrow();
    }

    private static PodResult podResult(WeightUpdate update, String pod) {
        return update.getStatus().getPods().stream().filter(p -> p.getName().equals(pod)).findFirst().orElseThrow();
    }

    private static Map<String, LocalFleet.AgentUsage> usage(List<String> nodes) throws Exception {
        Map<String, LocalFleet.AgentUsage> usage = new HashMap<>();
        for (String node : nodes) {
            usage.put(node, fleet.agentUsage(node));
        }
        return usage;
    }

    /**
     * The agents' open file descriptors come back to their level before the update (a few of slack for the
     * JVM's own lazily opened files) and their host store holds no more than before plus {@code retained}
     * (a completely loaded version the store may keep for a later update).
     */
    private static void assertResourcesBack(List<String> nodes, long retained) throws Exception {
        for (String node : nodes) {
            LocalFleet.AgentUsage before = usageBefore.get(node);
            LocalFleet.AgentUsage[] now = new LocalFleet.AgentUsage[1];
            try {
                Waits.until("agent " + node + " back to its resource level", SETTLE, () -> {
                    try {
                        now[0] = fleet.agentUsage(node);
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return true;
                    }
                    return now[0].fileDescriptors() <= before.fileDescriptors() + 4
                            && now[0].hostStoreBytes() <= before.hostStoreBytes() + retained;
                });
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError("agent " + node + ": before " + before + ", now " + now[0] + "; open: "
                        + fleet.agentFileDescriptors(node), e);
            }
            System.out.println("resources agent=" + node + " before=" + before + " after=" + now[0]);
        }
    }
}
