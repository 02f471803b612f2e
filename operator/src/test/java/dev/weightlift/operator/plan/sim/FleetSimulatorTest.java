package dev.weightlift.operator.plan.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.weightlift.operator.plan.Plan;
import dev.weightlift.operator.plan.Prediction;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The simulator on the fleet files shipped in {@code bench/fleets}. */
class FleetSimulatorTest {

    private static final Path FLEETS = Path.of("bench/fleets");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private static FleetSimulator.Result simulate(String file) throws IOException {
        return FleetSimulator.simulate(YAML.readValue(FLEETS.resolve(file).toFile(), FleetSpec.class));
    }

    @Test
    void everyFleetFileParses() throws IOException {
        try (Stream<Path> files = Files.list(FLEETS)) {
            List<Path> all = files.sorted().toList();
            assertTrue(all.size() >= 8, "fleet files present");
            for (Path f : all) {
                FleetSpec spec = YAML.readValue(f.toFile(), FleetSpec.class);
                assertNotNull(spec.model(), f + ": model");
                assertNotNull(spec.bandwidths(), f + ": bandwidths");
            }
        }
    }

    /** DESIGN 5.3, measured on 2 H200s: 0.72 for checkpoint-engine's schedule, 0.83 (8 GiB), 0.95 (small). */
    @Test
    void twoH200sReproduceTheMeasuredPipelineEfficiencies() throws IOException {
        Prediction big = simulate("h200x2-32gib-8gib-buckets.yaml").broadcast().prediction();
        Plan auto = simulate("h200x2-32gib-auto.yaml").broadcast();
        double ceSchedule = big.boundSeconds() / big.twoStageSeconds();
        assertTrue(ceSchedule > 0.65 && ceSchedule < 0.80, "two-stage " + ceSchedule);
        assertTrue(big.efficiency() > 0.78 && big.efficiency() < 0.88, "8 GiB " + big.efficiency());
        assertTrue(auto.prediction().efficiency() > 0.92, "automatic " + auto.prediction().efficiency());
        assertEquals("largest-unit", auto.sizing().limitedBy(), "the pipeline rule asks for less than the embedding");
    }

    @Test
    void checkpointEngineRowIsPredictedWithinAFifth() throws IOException {
        FleetSimulator.Result r = simulate("qwen3-235b-bf16-8xh800.yaml");
        assertEquals(2.67, r.broadcast().sizing().bucketBytes() / (double) (1L << 30), 0.01, "published bucket");
        double predicted = r.fleet().setupSeconds() + r.broadcast().prediction().twoStageSeconds();
        double published = r.fleet().published().broadcastSeconds();
        assertTrue(Math.abs(predicted - published) / published < 0.2, predicted + " vs " + published);
        assertTrue(r.broadcast().prediction().threeStageSeconds() < r.broadcast().prediction().twoStageSeconds());
    }

    @Test
    void weightliftAssignmentNeedsHalfTheRoundsWithTwoNicsPerHolderGpu() throws IOException {
        FleetSimulator.Result r = simulate("p2p-qwen3-235b-2nics-per-gpu-to-2-new-nodes.yaml");
        assertTrue(2 * r.p2p().rounds() <= r.p2pCheckpointEngine().rounds() + 1,
                r.p2p().rounds() + " vs " + r.p2pCheckpointEngine().rounds());
        assertEquals(16, r.p2p().traffic().receiverLinkBytes().size());
        assertEquals(8, r.p2pCheckpointEngine().traffic().receiverLinkBytes().size());
    }

    @Test
    void jsonFleetWithAnExplicitTensorList(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tiny.json");
        Files.writeString(file, """
                {"name": "tiny", "nodes": 2, "gpusPerNode": 2, "nicsPerNode": 2, "gpuFreeGiB": 1,
                 "memoryFraction": 0.9, "p2pTargetGpus": 2, "p2pNewNodes": 1, "p2pNewNicsPerNode": 2,
                 "setupSeconds": 0,
                 "model": {"name": "tiny", "tensors": [
                   {"name": "model.layers.0.self_attn.q_proj.weight", "bytes": 4000000},
                   {"name": "model.layers.0.self_attn.k_proj.weight", "bytes": 1000000},
                   {"name": "model.layers.0.mlp.experts.0.down_proj.weight", "bytes": 3000000},
                   {"name": "lm_head.weight", "bytes": 9000000}]},
                 "groupingPattern": "model\\\\.layers\\\\.(\\\\d+)\\\\.(self_attn)",
                 "bandwidths": {"h2dPerGpuGBps": 50, "h2dPerNodeGBps": 100, "broadcastIntraNodeGBps": 300,
                   "broadcastInterNodeGBps": 50, "nicGBps": 25, "reloadGBps": 400, "reloadPerTensorUs": 10,
                   "perBucketOverheadMs": 1}}
                """);
        FleetSimulator.Result r = FleetSimulator.simulate(YAML.readValue(file.toFile(), FleetSpec.class));
        assertEquals(4, r.broadcast().tensors());
        assertEquals(17_000_000, r.broadcast().totalBytes());
        assertEquals(List.of("new-000/gpu0", "new-000/gpu1"), r.p2p().targets());
        long attentionBuckets = r.broadcast().buckets().stream()
                .filter(b -> b.tensors().stream().anyMatch(t -> "0/self_attn".equals(t.group()))).count();
        assertEquals(1, attentionBuckets, "the attention group travels in one bucket");
    }

    @Test
    void mainPrintsATableRowPerFleet() throws IOException {
        PrintStream stdout = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (PrintStream capture = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            SimulateMain.main(new String[] {FLEETS.resolve("h200x2-32gib-auto.yaml").toString(),
                FLEETS.resolve("glm-4.5-air-bf16-8xh800.yaml").toString()});
        } finally {
            System.setOut(stdout);
        }
        String out = buffer.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("| 2xH200, 32 GiB, the automatic rule (pipeline cap) |"), out);
        assertTrue(out.contains("| GLM-4.5-Air BF16, 8xH800 TP8 | 3.02 |"), out);
        assertTrue(out.contains("published (checkpoint-engine README v0.2+): broadcast 3.47 s"), out);
    }
}
