package dev.weightlift.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pods that join after a Broadcast are filled without any action: first by P2P from the host memory of the
 * nodes that hold the version (every byte checked; the existing engines and their GPUs see no byte); a pod that
 * lands on a fleet node (which holds only its share) reads just what that node lacks; once a single node holds
 * only its share, a new pod gets that share by P2P and the rest from the source; after every agent restarted
 * (no node holds the version), from the checkpoint source; the status says how each time.
 */
class P2pScaleUpE2ETest {

    static final TinyCheckpoint.Shape SHAPE = new TinyCheckpoint.Shape(2048, 512, 4);
    static final Duration DEADLINE = Duration.ofSeconds(90);
    static final String PIPELINE_BYTES = "weightlift_pipeline_bytes_total";
    static final String P2P_BYTES = "weightlift_p2p_read_bytes_total";
    static final String KEPT = "weightlift_p2p_kept_versions";

    static Path work;
    static LocalFleet fleet;

    @BeforeAll
    static void startFleet() throws Exception {
        work = Files.createTempDirectory(Path.of("target"), "e2e-p2p-");
        fleet = LocalFleet.start(new LocalFleet.Options(2, 2, SHAPE, work.toAbsolutePath(),
                System.getProperty("weightlift.python", "/usr/bin/python3"), Path.of("../agent/python").toAbsolutePath().normalize(),
                System.getProperty("java.class.path"), Map.of(), 1, 1));
    }

    @AfterAll
    static void stopFleet() {
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void podsJoiningLaterAreFilledByP2pThenFromSourceOnceNoNodeHoldsTheVersion() throws Exception {
        TinyCheckpoint checkpoint = TinyCheckpoint.write(work.resolve("checkpoints").resolve("v1"), SHAPE, "v1");
        fleet.apply("v1", "v1", checkpoint, "4Mi", (int) DEADLINE.toSeconds());
        WeightUpdate done = fleet.await("v1", u -> u.getStatus() != null && u.getStatus().getPhase() != null
                && u.getStatus().getPhase().isTerminal(), DEADLINE.plusSeconds(10));
        assertEquals(Phase.Succeeded, done.getStatus().getPhase(), () -> "conditions: " + done.getStatus().getConditions());
        List<String> fleetNodes = List.of("node-0", "node-1");
        for (String node : fleetNodes) {
            Waits.until(node + " keeps v1 pinned (the update may still fill pods)", DEADLINE,
                    () -> kept(node) == 1.0);
        }
        Map<String, Map<String, Double>> before = new HashMap<>();
        for (String node : fleetNodes) {
            before.put(node, fleet.agentCounters(node, "weightlift_"));
        }
        double bytesPerGpu = before.get("node-0").entrySet().stream().filter(e -> e.getKey().startsWith(PIPELINE_BYTES))
                .mapToDouble(Map.Entry::getValue).findFirst().orElseThrow();
        assertTrue(bytesPerGpu >= checkpoint.bytes(), () -> "pipeline bytes of a fleet GPU: " + before.get("node-0"));

        List<LocalFleet.EnginePod> joined = fleet.addNodes(List.of("node-2", "node-3"), 1);
        for (LocalFleet.EnginePod pod : joined) {
            PodResult result = awaitFilled(pod);
            assertTrue(result.getMessage().contains("by P2P"), () -> pod.name() + ": " + result.getMessage());
        }
        LocalFleet.Verification verification = fleet.verify(checkpoint, "v1");
        assertTrue(verification.ok(), () -> String.join("\n", verification.problems()));
        assertEquals(6, verification.workers());
        assertEquals(6 * checkpoint.bytes(), verification.bytesChecked());

        for (String node : fleetNodes) {
            Map<String, Double> after = fleet.agentCounters(node, "weightlift_");
            assertEquals(counters(before.get(node), PIPELINE_BYTES), counters(after, PIPELINE_BYTES),
                    node + ": no byte may move into the serving engines");
            assertEquals(0.0, counters(after, P2P_BYTES).values().stream().mapToDouble(Double::doubleValue).sum(),
                    node + " read nothing by P2P");
        }
        for (LocalFleet.EnginePod pod : joined) {
            Map<String, Double> counters = fleet.agentCounters(pod.node(), "weightlift_");
            assertEquals(checkpoint.bytes(), counters(counters, P2P_BYTES).values().stream().mapToDouble(Double::doubleValue).sum(),
                    pod.node() + " read the whole checkpoint by P2P: " + counters);
            assertEquals(bytesPerGpu, counters.get(PIPELINE_BYTES + "{gpu=\"" + pod.gpus().get(0) + "\"}"),
                    pod.node() + " pushed the checkpoint into its one engine: " + counters);
        }

        LocalFleet.EnginePod landed = fleet.addPod("node-0");
        PodResult toppedUp = awaitFilled(landed);
        assertTrue(toppedUp.getMessage().contains("by P2P from node") && toppedUp.getMessage().contains("node node-0 held"),
                toppedUp::getMessage);
        Map<String, Double> node0 = fleet.agentCounters("node-0", "weightlift_");
        double lacked = p2pBytes(node0);
        assertTrue(lacked > 0 && lacked < checkpoint.bytes(), () -> "node-0 read only the share it lacked: " + node0);
        assertEquals(bytesPerGpu, node0.get(PIPELINE_BYTES + "{gpu=\"" + landed.gpus().get(0) + "\"}"), "the landed pod got it all");
        assertVerified(checkpoint, 7);

        fleet.restartAgents(List.of("node-0", "node-2", "node-3"));
        double share = checkpoint.bytes() - lacked;
        PodResult mixed = awaitFilled(fleet.addNodes(List.of("node-4"), 1).get(0));
        assertTrue(mixed.getMessage().contains("by P2P from node node-1") && mixed.getMessage().contains("from the checkpoint source"),
                () -> "node-1 holds only its share, the rest comes from the source, and the status says so: " + mixed.getMessage());
        assertTrue(p2pBytes(fleet.agentCounters("node-4", "weightlift_")) < share + 1,
                "node-4 read by P2P at most node-1's share");
        assertVerified(checkpoint, 8);

        fleet.restartAgents();
        List<LocalFleet.EnginePod> afterRestart = fleet.addNodes(List.of("node-5"), 1);
        PodResult fromSource = awaitFilled(afterRestart.get(0));
        assertTrue(fromSource.getMessage().contains("from the checkpoint source"), fromSource::getMessage);
        assertVerified(checkpoint, 9);
        assertEquals(0.0, p2pBytes(fleet.agentCounters("node-5", "weightlift_")), "node-5 read nothing by P2P");
    }

    private static void assertVerified(TinyCheckpoint checkpoint, int engines) throws Exception {
        LocalFleet.Verification all = fleet.verify(checkpoint, "v1");
        assertTrue(all.ok(), () -> String.join("\n", all.problems()));
        assertEquals(engines * checkpoint.bytes(), all.bytesChecked());
    }

    private static double p2pBytes(Map<String, Double> all) {
        return counters(all, P2P_BYTES).values().stream().mapToDouble(Double::doubleValue).sum();
    }

    private static double kept(String node) {
        try {
            return fleet.agentCounters(node, KEPT).getOrDefault(KEPT, 0.0);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static PodResult awaitFilled(LocalFleet.EnginePod pod) throws Exception {
        WeightUpdate update = fleet.await("v1", u -> entry(u, pod.name()).map(r -> r.getState() == PodResult.State.Updated).orElse(false),
                DEADLINE);
        Pod live = fleet.client().pods().inNamespace(LocalFleet.NAMESPACE).withName(pod.name()).get();
        assertEquals("v1", live.getMetadata().getAnnotations().get(WeightUpdate.VERSION_ANNOTATION), pod.name());
        assertTrue(live.getStatus().getConditions().stream().anyMatch(c -> c.getType().equals(WeightUpdate.WEIGHTS_READY_CONDITION)
                && c.getStatus().equals("True")), pod.name());
        return entry(update, pod.name()).orElseThrow();
    }

    private static Optional<PodResult> entry(WeightUpdate update, String pod) {
        return update.getStatus() == null || update.getStatus().getPods() == null ? Optional.empty()
                : update.getStatus().getPods().stream().filter(p -> pod.equals(p.getName())).findFirst();
    }

    private static Map<String, Double> counters(Map<String, Double> all, String name) {
        Map<String, Double> selected = new HashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(name)) {
                selected.put(k, v);
            }
        });
        return selected;
    }
}
