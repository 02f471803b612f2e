package dev.weightlift.operator.flow;

import dev.weightlift.operator.plan.Bucket;
import dev.weightlift.operator.plan.Holding;
import dev.weightlift.operator.plan.Participant;
import dev.weightlift.operator.plan.Plan;
import dev.weightlift.operator.plan.TensorMeta;
import dev.weightlift.operator.plan.Transfer;
import dev.weightlift.protocol.broadcast.FetchWork;
import dev.weightlift.protocol.broadcast.LoadedTensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The pure part of a P2P fill: which holder serves which tensor, and how the planner's P2P plan becomes the
 * receiving agent's reads. Every holder may hold only its share of the files (what it loaded for the
 * Broadcast), the target's node included; each tensor the target's node lacks is read from exactly one other
 * holder, the one with the fewest bytes assigned so far.
 */
final class P2pFetchPlanner {

    /** One holder as it answered: its owner participant and the tensors it holds (buffer = its buffer index). */
    record HolderView(Participant owner, String host, int port, List<String> descriptors, List<LoadedTensor> tensors) {
    }

    private P2pFetchPlanner() {
    }

    /**
     * Where each tensor of the checkpoint comes from for the target's node.
     *
     * @param holdings what to read by P2P, per holder (none but holders other than the target)
     * @param missing the tensors no holder has (loaded from the source)
     * @param heldBytes bytes of the tensors the target's node holds already
     */
    record Assignment(List<Holding> holdings, List<TensorMeta> missing, long heldBytes) {

        long p2pBytes() {
            return holdings.stream().flatMap(h -> h.tensors().stream()).mapToLong(TensorMeta::bytes).sum();
        }

        long missingBytes() {
            return missing.stream().mapToLong(TensorMeta::bytes).sum();
        }
    }

    /**
     * The holdings to plan from: every tensor of {@code checkpoint} that the holder on {@code targetNode} (if it is
     * one) lacks, from one other holder; the tensors no holder has are {@code missing} (loaded from the source).
     *
     * @throws FlowFailure when a holder holds a tensor unlike the checkpoint's header (dtype, shape or size)
     */
    static Assignment holdings(List<TensorMeta> checkpoint, List<HolderView> holders, String targetNode) throws FlowFailure {
        Map<String, Map<String, LoadedTensor>> byHolder = new LinkedHashMap<>();
        for (HolderView h : holders) {
            Map<String, LoadedTensor> own = new HashMap<>();
            h.tensors().forEach(t -> own.put(t.name(), t));
            byHolder.put(h.owner().node(), own);
        }
        Map<String, List<TensorMeta>> assigned = new LinkedHashMap<>();
        Map<String, Long> assignedBytes = new HashMap<>();
        holders.forEach(h -> {
            assigned.put(h.owner().node(), new ArrayList<>());
            assignedBytes.put(h.owner().node(), 0L);
        });
        List<TensorMeta> missing = new ArrayList<>();
        long heldBytes = 0;
        for (TensorMeta tensor : checkpoint) {
            String best = null;
            LoadedTensor bestHeld = null;
            boolean onTarget = false;
            for (HolderView h : holders) {
                LoadedTensor held = byHolder.get(h.owner().node()).get(tensor.name());
                if (held == null) {
                    continue;
                }
                if (!held.dtype().equals(tensor.dtype()) || !held.shape().equals(tensor.shape()) || held.bytes() != tensor.bytes()) {
                    throw new FlowFailure("HolderMismatch", "node " + h.owner().node() + " holds tensor " + tensor.name() + " as "
                            + held.dtype() + held.shape() + " (" + held.bytes() + " B) but the checkpoint has " + tensor.dtype()
                            + tensor.shape() + " (" + tensor.bytes() + " B)");
                }
                if (h.owner().node().equals(targetNode)) {
                    onTarget = true;
                } else if (best == null || assignedBytes.get(h.owner().node()) < assignedBytes.get(best)) {
                    best = h.owner().node();
                    bestHeld = held;
                }
            }
            if (onTarget) {
                heldBytes += tensor.bytes();
            } else if (best == null) {
                missing.add(tensor);
            } else {
                assigned.get(best).add(new TensorMeta(tensor.name(), tensor.dtype(), tensor.shape(), tensor.bytes(), bestHeld.buffer(),
                        bestHeld.offset()));
                assignedBytes.merge(best, tensor.bytes(), Long::sum);
            }
        }
        List<Holding> holdings = new ArrayList<>();
        for (HolderView h : holders) {
            if (!assigned.get(h.owner().node()).isEmpty()) {
                holdings.add(new Holding(h.owner(), assigned.get(h.owner().node())));
            }
        }
        return new Assignment(holdings, missing, heldBytes);
    }

    /**
     * The receiver's reads: one buffer per bucket, in the order of the plan's schedule (its rounds never put
     * two reads on one sender link), each bucket's copy ranges read from its owner's buffers.
     */
    static FetchWork fetchWork(Plan plan, List<HolderView> holders) {
        Map<String, Integer> sourceOfOwner = new HashMap<>();
        List<FetchWork.Source> sources = new ArrayList<>();
        for (HolderView h : holders) {
            sourceOfOwner.put(h.owner().id(), sources.size());
            sources.add(new FetchWork.Source(h.owner().node(), h.host(), h.port(), h.descriptors()));
        }
        Set<Integer> order = new LinkedHashSet<>();
        plan.schedule().stream().map(Transfer::bucket).forEach(order::add);
        List<FetchWork.Buffer> buffers = new ArrayList<>();
        for (int index : order) {
            Bucket bucket = plan.buckets().get(index);
            Integer source = sourceOfOwner.get(bucket.owner());
            if (source == null) {
                throw new IllegalStateException("bucket " + index + " is owned by " + bucket.owner() + ", which is no holder");
            }
            String bufferName = Integer.toString(buffers.size());
            List<LoadedTensor> tensors = bucket.tensors().stream()
                    .map(s -> new LoadedTensor(s.name(), s.dtype(), s.shape(), s.bytes(), bufferName, s.offset())).toList();
            List<FetchWork.Read> reads = bucket.copies().stream()
                    .map(c -> new FetchWork.Read(source, Integer.parseInt(c.buffer()), c.sourceOffset(), c.bucketOffset(), c.length())).toList();
            buffers.add(new FetchWork.Buffer(bucket.bytes(), tensors, reads));
        }
        return new FetchWork(sources, buffers);
    }
}
