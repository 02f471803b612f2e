package dev.weightlift.operator.plan;

import static dev.weightlift.operator.plan.Fixtures.gpu;
import static dev.weightlift.operator.plan.Fixtures.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GroupingTest {

    static final String PER_LAYER =
            "model\\.layers\\.(\\d+)\\.(?:(self_attn)|mlp\\.(experts)\\.\\d+\\.(?:gate_proj|up_proj|(down)_proj))";

    @Test
    void keysAreTheCapturedValues() {
        TensorGrouping g = TensorGrouping.of(PER_LAYER);
        assertEquals("3/self_attn", g.keyOf("model.layers.3.self_attn.q_proj.weight"));
        assertEquals("3/experts", g.keyOf("model.layers.3.mlp.experts.17.gate_proj.weight"));
        assertEquals("3/experts", g.keyOf("model.layers.3.mlp.experts.200.up_proj.weight_scale_inv"));
        assertEquals("3/experts/down", g.keyOf("model.layers.3.mlp.experts.5.down_proj.weight"));
        assertNull(g.keyOf("model.embed_tokens.weight"));
        assertNull(g.keyOf("model.layers.3.input_layernorm.weight"));
    }

    @Test
    void capturingTheExpertIndexGroupsEachExpertProjectionAlone() {
        TensorGrouping g = TensorGrouping.of("model\\.layers\\.(\\d+)\\.(self_attn|mlp\\.experts\\.\\d+\\."
                + "(?:gate|up)_proj|mlp\\.experts\\.\\d+\\.down_proj)");
        assertEquals("3/mlp.experts.17.gate_proj", g.keyOf("model.layers.3.mlp.experts.17.gate_proj.weight"));
        assertEquals("3/mlp.experts.17.up_proj", g.keyOf("model.layers.3.mlp.experts.17.up_proj.weight"));
    }

    @Test
    void invalidPatternNamesTheField() {
        PlanException e = assertThrows(PlanException.class, () -> TensorGrouping.of("model.(layers"));
        assertTrue(e.getMessage().startsWith("spec.grouping.pattern is not a valid Java regex"), e.getMessage());
    }

    @Test
    void groupLargerThanTheBucketIsAPreciseError() {
        List<TensorMeta> tensors = new ArrayList<>();
        for (int e = 0; e < 4; e++) {
            tensors.add(tensor("model.layers.0.mlp.experts." + e + ".gate_proj.weight", 1000, "f", e * 2000));
            tensors.add(tensor("model.layers.0.mlp.experts." + e + ".up_proj.weight", 1000, "f", e * 2000 + 1000));
        }
        Participant a = gpu("node-a", 0, 1L << 30);
        PlanRequest request = PlanRequest.broadcast("m", List.of(new Holding(a, tensors)))
                .withGrouping(PER_LAYER).withSizing(SizingPolicy.defaults().withBucketBytes(4096));
        PlanException e = assertThrows(PlanException.class, () -> Planner.plan(request));
        assertEquals("spec.bucketSize 4096 bytes is smaller than the largest group '0/experts' (8 tensors)"
                + " (8192 bytes)", e.getMessage());
    }

    @Test
    void groupSplitBetweenOwnersIsAPreciseError() {
        Participant a = gpu("node-a", 0, 1L << 30);
        Participant b = gpu("node-b", 0, 1L << 30);
        PlanRequest request = PlanRequest.broadcast("m", List.of(
                new Holding(a, List.of(tensor("model.layers.1.self_attn.q_proj.weight", 512, "f0", 0))),
                new Holding(b, List.of(tensor("model.layers.1.self_attn.k_proj.weight", 512, "f1", 0)))))
                .withGrouping(PER_LAYER);
        PlanException e = assertThrows(PlanException.class, () -> Planner.plan(request));
        assertTrue(e.getMessage().startsWith("group '1/self_attn' is split between owners node-a/gpu0"
                + " (tensor 'model.layers.1.self_attn.q_proj.weight') and node-b/gpu0"), e.getMessage());
    }

    @Test
    void loadAssignmentKeepsGroupsOnOneOwnerInBothGranularities() {
        List<TensorMeta> tensors = new ArrayList<>();
        // layer L's attention spread over two files, as in sharded safetensors checkpoints
        for (int layer = 0; layer < 6; layer++) {
            tensors.add(tensor("model.layers." + layer + ".self_attn.q_proj.weight", 4096, "f" + layer, 0));
            tensors.add(tensor("model.layers." + layer + ".self_attn.o_proj.weight", 4096, "f" + (layer + 1), 8192));
            tensors.add(tensor("model.layers." + layer + ".mlp.experts.0.down_proj.weight", 2048, "f" + layer, 4096));
        }
        List<Participant> owners = List.of(gpu("a", 0, 1), gpu("a", 1, 1), gpu("b", 0, 1));
        for (LoadRequest.Granularity granularity : LoadRequest.Granularity.values()) {
            LoadAssignment assignment = LoadPlanner.assign(new LoadRequest(tensors, owners, PER_LAYER, granularity));
            Map<String, String> ownerOfGroup = new HashMap<>();
            TensorGrouping g = TensorGrouping.of(PER_LAYER);
            int assigned = 0;
            for (LoadAssignment.OwnerLoad o : assignment.owners()) {
                for (TensorMeta t : o.tensors()) {
                    String previous = ownerOfGroup.putIfAbsent(g.keyOf(t.name()), o.owner());
                    assertTrue(previous == null || previous.equals(o.owner()), granularity + ": " + t.name());
                    assigned++;
                }
            }
            assertEquals(tensors.size(), assigned);
        }
    }
}
