package dev.weightlift.operator.plan;

import static dev.weightlift.operator.plan.Fixtures.gpu;
import static dev.weightlift.operator.plan.Fixtures.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoadPlannerTest {

    @Test
    void filesAreBalancedByBytesAndListedPerNode() {
        List<TensorMeta> tensors = new ArrayList<>();
        long[] sizes = {500, 400, 300, 300, 200, 200, 100};
        for (int f = 0; f < sizes.length; f++) {
            tensors.add(tensor("t" + f, sizes[f], "model-0000" + f + ".safetensors", 0));
        }
        List<Participant> owners = List.of(gpu("n1", 0, 1), gpu("n1", 1, 1), gpu("n2", 0, 1));
        LoadAssignment a = LoadPlanner.assign(new LoadRequest(tensors, owners, null, LoadRequest.Granularity.FILE));
        assertEquals(List.of(700L, 700L, 600L), a.owners().stream().map(LoadAssignment.OwnerLoad::bytes).toList());
        assertEquals(List.of("model-00000.safetensors", "model-00005.safetensors"), a.owners().get(0).files());
        Map<String, List<String>> byNode = a.filesByNode();
        assertEquals(5, byNode.get("n1").size());
        assertEquals(List.of("model-00002.safetensors", "model-00003.safetensors"), byNode.get("n2"));
    }

    @Test
    void tensorGranularityBalancesFewLargeFiles() {
        List<TensorMeta> tensors = new ArrayList<>();
        for (int f = 0; f < 2; f++) {
            tensors.addAll(Fixtures.tensors("f" + f + ".t", 64, 1000, "f" + f));
        }
        List<Participant> owners = List.of(gpu("n", 0, 1), gpu("n", 1, 1), gpu("n", 2, 1), gpu("n", 3, 1));
        LoadAssignment files = LoadPlanner.assign(new LoadRequest(tensors, owners, null, LoadRequest.Granularity.FILE));
        assertEquals(0, files.minOwnerBytes());
        LoadAssignment single = LoadPlanner.assign(
                new LoadRequest(tensors, owners, null, LoadRequest.Granularity.TENSOR));
        assertEquals(32_000, single.minOwnerBytes());
        assertEquals(32_000, single.maxOwnerBytes());
        List<TensorMeta> shard = single.owners().get(0).tensors();
        for (int i = 1; i < shard.size(); i++) {
            TensorMeta p = shard.get(i - 1);
            TensorMeta t = shard.get(i);
            assertTrue(p.buffer().compareTo(t.buffer()) < 0 || p.offset() < t.offset(), "shard in file order");
        }
    }

    @Test
    void duplicateTensorNamesAreRejected() {
        List<TensorMeta> tensors = List.of(tensor("w", 10, "a.safetensors", 0), tensor("w", 10, "b.safetensors", 0));
        PlanException e = assertThrows(PlanException.class, () -> LoadPlanner.assign(
                new LoadRequest(tensors, List.of(gpu("n", 0, 1)), null, LoadRequest.Granularity.FILE)));
        assertEquals("tensor 'w' appears twice (in a.safetensors and b.safetensors)", e.getMessage());
    }

    @Test
    void noOwnersIsAnError() {
        assertThrows(PlanException.class, () -> LoadPlanner.assign(
                new LoadRequest(List.of(), List.of(), null, LoadRequest.Granularity.FILE)));
    }
}
