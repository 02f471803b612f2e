package dev.weightlift.operator.flow;

import dev.weightlift.api.v1alpha1.EngineProtocol;
import dev.weightlift.api.v1alpha1.VerifyMode;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateSpec;
import dev.weightlift.operator.plan.Bucket;
import dev.weightlift.operator.plan.Holding;
import dev.weightlift.operator.plan.LoadAssignment;
import dev.weightlift.operator.plan.Participant;
import dev.weightlift.operator.plan.Plan;
import dev.weightlift.operator.plan.SizingPolicy;
import dev.weightlift.operator.plan.TensorMeta;
import dev.weightlift.operator.plan.Transfer;
import dev.weightlift.operator.reconciler.weightupdate.Target;
import dev.weightlift.protocol.broadcast.LoadedTensor;
import dev.weightlift.protocol.broadcast.NodeWork;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Pure steps of the Broadcast flow: what the owners hold after loading, and the translation of a {@link Plan}
 * into each node's {@link NodeWork}: collective ranks in plan target
 * order, buckets in schedule order (re-indexed from 0, each rooted at its receiver's rank, copy ranges only
 * for the node that owns it), the engine instances each node triggers, the engine protocol and whether buckets are
 * checksummed.
 */
final class BroadcastPlanner {

    private BroadcastPlanner() {
    }

    static SizingPolicy sizing(WeightUpdateSpec spec) {
        return SizingPolicy.fromSpec(spec.getBucketSize(), spec.getMemoryFraction());
    }

    /** Node name → its work; {@code participants} by participant id. */
    static Map<String, NodeWork> nodeWork(WeightUpdate update, Plan plan, Map<String, Participant> participants,
            List<Target> targets, long connectMillis, long stepMillis, long timeoutMillis) {
        Map<String, Integer> rankOf = new HashMap<>();
        for (int r = 0; r < plan.targets().size(); r++) {
            rankOf.put(plan.targets().get(r), r);
        }
        Map<String, List<NodeWork.Rank>> ranks = new TreeMap<>();
        for (int r = 0; r < plan.targets().size(); r++) {
            Participant p = participants.get(plan.targets().get(r));
            ranks.computeIfAbsent(p.node(), n -> new ArrayList<>()).add(new NodeWork.Rank(r, p.gpuUuid()));
        }
        List<Transfer> schedule = plan.schedule();
        Map<String, List<NodeWork.BucketWork>> buckets = new TreeMap<>();
        for (String node : ranks.keySet()) {
            List<NodeWork.BucketWork> list = new ArrayList<>(schedule.size());
            for (int step = 0; step < schedule.size(); step++) {
                Transfer t = schedule.get(step);
                Bucket b = plan.buckets().get(t.bucket());
                boolean owned = participants.get(t.receiver()).node().equals(node);
                list.add(new NodeWork.BucketWork(step, rankOf.get(t.receiver()), b.bytes(),
                        b.tensors().stream().map(s -> new NodeWork.Tensor(s.name(), s.dtype(), s.shape(), s.offset(), s.bytes())).toList(),
                        owned ? b.copies().stream().map(c -> new NodeWork.Copy(Integer.parseInt(c.buffer()), c.sourceOffset(),
                                c.bucketOffset(), c.length())).toList() : List.of()));
            }
            buckets.put(node, list);
        }
        Map<String, List<NodeWork.Instance>> instances = new TreeMap<>();
        for (Target target : targets) {
            instances.computeIfAbsent(target.node(), n -> new ArrayList<>()).add(new NodeWork.Instance(
                    target.namespace() + "/" + target.pod(), update.getSpec().getEngine().getType().toString().toLowerCase(java.util.Locale.ROOT),
                    target.podIp(), update.getSpec().getEngine().getPort(), update.getSpec().getEngine().getTriggerPath(), target.gpus()));
        }
        String protocol = update.getSpec().getEngine().getProtocol() == EngineProtocol.CHECKPOINT_ENGINE ? "checkpoint-engine" : "native";
        boolean checksums = update.getSpec().getVerify() == VerifyMode.Checksum;
        Map<String, NodeWork> work = new TreeMap<>();
        for (String node : ranks.keySet()) {
            work.put(node, new NodeWork(plan.targets().size(), plan.sizing().bucketBytes(), ranks.get(node), buckets.get(node),
                    instances.getOrDefault(node, List.of()), connectMillis, stepMillis, timeoutMillis, protocol, checksums));
        }
        return work;
    }

    /**
     * What each owner GPU holds once loaded: its assigned tensors as its node reported them (host store buffer
     * and offset). A tensor missing, or loaded with another dtype or shape than the file header said, fails.
     */
    static List<Holding> holdings(LoadAssignment assignment, Map<String, Participant> participants,
            Map<String, List<LoadedTensor>> loadedByNode) throws FlowFailure {
        List<Holding> holdings = new ArrayList<>();
        for (LoadAssignment.OwnerLoad owner : assignment.owners()) {
            if (owner.tensors().isEmpty()) {
                continue;
            }
            Map<String, LoadedTensor> held = new HashMap<>();
            loadedByNode.getOrDefault(owner.node(), List.of()).forEach(t -> held.put(t.name(), t));
            List<TensorMeta> metas = new ArrayList<>();
            for (TensorMeta expected : owner.tensors()) {
                LoadedTensor t = held.get(expected.name());
                if (t == null || !t.dtype().equals(expected.dtype()) || !t.shape().equals(expected.shape())) {
                    throw new FlowFailure("CheckpointChanged", "node " + owner.node() + " loaded tensor '" + expected.name() + "' "
                            + (t == null ? "not at all" : "as " + t.dtype() + " " + t.shape()) + ", the file header says "
                            + expected.dtype() + " " + expected.shape() + " (" + expected.buffer() + ")");
                }
                metas.add(new TensorMeta(t.name(), t.dtype(), t.shape(), t.bytes(), t.buffer(), t.offset()));
            }
            holdings.add(new Holding(participants.get(owner.owner()), metas));
        }
        return holdings;
    }
}
