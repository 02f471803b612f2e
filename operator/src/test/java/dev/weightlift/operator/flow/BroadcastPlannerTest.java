package dev.weightlift.operator.flow;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.api.v1alpha1.CheckpointSpec;
import dev.weightlift.api.v1alpha1.EngineProtocol;
import dev.weightlift.api.v1alpha1.EngineSpec;
import dev.weightlift.api.v1alpha1.EngineType;
import dev.weightlift.api.v1alpha1.VerifyMode;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateSpec;
import dev.weightlift.operator.plan.Holding;
import dev.weightlift.operator.plan.LoadAssignment;
import dev.weightlift.operator.plan.Participant;
import dev.weightlift.operator.plan.Plan;
import dev.weightlift.operator.plan.PlanRequest;
import dev.weightlift.operator.plan.Planner;
import dev.weightlift.operator.plan.SizingPolicy;
import dev.weightlift.operator.plan.TensorMeta;
import dev.weightlift.operator.reconciler.weightupdate.Target;
import dev.weightlift.protocol.broadcast.LoadedTensor;
import dev.weightlift.protocol.broadcast.NodeWork;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Plan → each node's work: ranks in plan order, buckets in schedule order rooted at their owner, copies only where owned. */
class BroadcastPlannerTest {

    static final long MIB = 1 << 20;

    @Test
    void everyNodeGetsEveryBucketButCopiesOnlyItsOwn() {
        Map<String, Participant> participants = new LinkedHashMap<>();
        List<Holding> holdings = new ArrayList<>();
        for (String node : List.of("node-a", "node-b")) {
            for (int g = 0; g < 2; g++) {
                Participant p = new Participant(node, g, "GPU-" + node + "-" + g, 1L << 30, List.of(), "10.0.0.1");
                participants.put(p.id(), p);
                holdings.add(new Holding(p, List.of(new TensorMeta(node + ".w" + g, "F32", List.of(MIB), 4 * MIB, "0", g * 4 * MIB))));
            }
        }
        Plan plan = Planner.plan(PlanRequest.broadcast("tiny@v1", holdings).withSizing(SizingPolicy.defaults().withBucketBytes(8 * MIB)));
        List<Target> targets = new ArrayList<>();
        participants.values().forEach(p -> targets.add(new Target("ns", "pod-" + p.node() + "-" + p.gpuIndex(), "uid", p.node(), "10.1.0.1",
                List.of(p.gpuUuid()))));

        Map<String, NodeWork> work = BroadcastPlanner.nodeWork(update(), plan, participants, targets, 1000, 2000, 3000);

        assertEquals(List.of("node-a", "node-b"), List.copyOf(work.keySet()));
        NodeWork a = work.get("node-a");
        NodeWork b = work.get("node-b");
        assertEquals(4, a.worldSize());
        assertEquals(List.of(0, 1), a.ranks().stream().map(NodeWork.Rank::rank).toList());
        assertEquals(List.of(2, 3), b.ranks().stream().map(NodeWork.Rank::rank).toList());
        assertEquals(plan.buckets().size(), a.buckets().size());
        assertEquals(a.buckets().size(), b.buckets().size());
        for (int g = 0; g < a.buckets().size(); g++) {
            NodeWork.BucketWork onA = a.buckets().get(g);
            NodeWork.BucketWork onB = b.buckets().get(g);
            assertEquals(g, onA.index());
            assertEquals(onA.root(), onB.root());
            assertEquals(onA.tensors(), onB.tensors());
            boolean ownedByA = onA.root() < 2;
            assertEquals(ownedByA, !onA.copies().isEmpty(), "bucket " + g);
            assertEquals(!ownedByA, !onB.copies().isEmpty(), "bucket " + g);
            assertTrue(onA.bytes() <= a.slotBytes());
        }
        assertEquals(List.of("ns/pod-node-a-0", "ns/pod-node-a-1"), a.instances().stream().map(NodeWork.Instance::name).toList());
        assertEquals("vllm", a.instances().get(0).engineType());
        assertEquals(8000, a.instances().get(0).port());
        assertEquals(3000, a.timeoutMillis());
        assertEquals("native", a.engineProtocol());
        assertFalse(a.checksums());

        WeightUpdate verified = update();
        verified.getSpec().setVerify(VerifyMode.Checksum);
        verified.getSpec().getEngine().setProtocol(EngineProtocol.CHECKPOINT_ENGINE);
        NodeWork c = BroadcastPlanner.nodeWork(verified, plan, participants, targets, 1000, 2000, 3000).get("node-b");
        assertEquals("checkpoint-engine", c.engineProtocol());
        assertTrue(c.checksums());
    }

    @Test
    void aTensorLoadedOtherwiseThanTheHeaderSaysFailsNamingNodeAndTensor() {
        Participant owner = new Participant("node-a", 0, "GPU-a", 1L << 30, List.of(), "10.0.0.1");
        TensorMeta header = new TensorMeta("w", "BF16", List.of(4L), 8, "model.safetensors", 0);
        LoadAssignment assignment = new LoadAssignment(List.of(new LoadAssignment.OwnerLoad(owner.id(), "node-a", 8,
                List.of("model.safetensors"), List.of(header))));
        FlowFailure failure = assertThrows(FlowFailure.class, () -> BroadcastPlanner.holdings(assignment, Map.of(owner.id(), owner),
                Map.of("node-a", List.of(new LoadedTensor("w", "F16", List.of(4L), 8, "0", 0)))));
        assertEquals("CheckpointChanged", failure.reason());
        assertTrue(failure.getMessage().contains("node-a") && failure.getMessage().contains("'w'"), failure.getMessage());

        List<Holding> held = assertDoesNotThrow(() -> BroadcastPlanner.holdings(assignment, Map.of(owner.id(), owner),
                Map.of("node-a", List.of(new LoadedTensor("w", "BF16", List.of(4L), 8, "0", 256)))));
        assertEquals(new TensorMeta("w", "BF16", List.of(4L), 8, "0", 256), held.get(0).tensors().get(0));
    }

    static WeightUpdate update() {
        WeightUpdate update = new WeightUpdate();
        update.getMetadata().setName("u");
        update.getMetadata().setNamespace("ns");
        WeightUpdateSpec spec = new WeightUpdateSpec();
        EngineSpec engine = new EngineSpec();
        engine.setType(EngineType.VLLM);
        spec.setEngine(engine);
        CheckpointSpec checkpoint = new CheckpointSpec();
        checkpoint.setName("tiny");
        checkpoint.setVersion("v1");
        spec.setCheckpoint(checkpoint);
        update.setSpec(spec);
        return update;
    }
}
