package dev.weightlift.operator.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.operator.plan.Bandwidths;
import dev.weightlift.operator.plan.Holding;
import dev.weightlift.operator.plan.Mode;
import dev.weightlift.operator.plan.Participant;
import dev.weightlift.operator.plan.Plan;
import dev.weightlift.operator.plan.PlanRequest;
import dev.weightlift.operator.plan.Planner;
import dev.weightlift.operator.plan.ReceiverStrategy;
import dev.weightlift.operator.plan.SizingPolicy;
import dev.weightlift.operator.plan.TensorMeta;
import dev.weightlift.protocol.broadcast.FetchWork;
import dev.weightlift.protocol.broadcast.LoadedTensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Holders' tensors → holdings (one holder per tensor, balanced) → the receiver's reads from a P2P plan. */
class P2pFetchPlannerTest {

    static final long MIB = 1 << 20;

    /** The checkpoint: eight 1 MiB tensors named w0..w7 (their file offsets do not matter here). */
    static final List<TensorMeta> CHECKPOINT = checkpoint();

    @Test
    void eachTensorComesFromOneHolderAndTheHoldersShareTheBytes() throws Exception {
        HolderView a = holder("node-a", 0, 1, 2, 3, 4, 5, 6, 7);
        HolderView b = holder("node-b", 0, 1, 2, 3, 4, 5, 6, 7);

        List<Holding> holdings = P2pFetchPlanner.holdings(CHECKPOINT, List.of(a.view, b.view), "node-new").holdings();

        assertEquals(2, holdings.size());
        assertEquals(List.of("w0", "w2", "w4", "w6"), holdings.get(0).tensors().stream().map(TensorMeta::name).toList());
        assertEquals(List.of("w1", "w3", "w5", "w7"), holdings.get(1).tensors().stream().map(TensorMeta::name).toList());
        TensorMeta w3 = holdings.get(1).tensors().get(1);
        assertEquals("0", w3.buffer());
        assertEquals(3 * MIB, w3.offset(), "the holder's own place of the tensor");
    }

    @Test
    void holdersWithSharesOfTheFilesTogetherCoverTheCheckpoint() throws Exception {
        HolderView a = holder("node-a", 0, 1, 2, 3);
        HolderView b = holder("node-b", 4, 5, 6, 7);

        List<Holding> holdings = P2pFetchPlanner.holdings(CHECKPOINT, List.of(a.view, b.view), "node-new").holdings();

        assertEquals(List.of("w0", "w1", "w2", "w3"), holdings.get(0).tensors().stream().map(TensorMeta::name).toList());
        assertEquals(List.of("w4", "w5", "w6", "w7"), holdings.get(1).tensors().stream().map(TensorMeta::name).toList());
    }

    @Test
    void aTensorNoHolderHoldsComesFromSourceAndTheRestByP2p() throws Exception {
        P2pFetchPlanner.Assignment assignment = P2pFetchPlanner.holdings(CHECKPOINT, List.of(holder("node-a", 0, 1, 2, 3, 4, 5).view),
                "node-new");

        assertEquals(List.of("w6", "w7"), assignment.missing().stream().map(TensorMeta::name).toList());
        assertEquals(2 * MIB, assignment.missingBytes());
        assertEquals(List.of("w0", "w1", "w2", "w3", "w4", "w5"),
                assignment.holdings().get(0).tensors().stream().map(TensorMeta::name).toList());
        assertEquals(6 * MIB, assignment.p2pBytes());
        assertEquals(0, assignment.heldBytes());
    }

    @Test
    void aTargetNodeHoldingItsShareReadsOnlyTheTensorsItLacksFromTheOthers() throws Exception {
        HolderView target = holder("node-a", 0, 1, 2, 3);
        HolderView other = holder("node-b", 2, 3, 4, 5, 6);

        P2pFetchPlanner.Assignment assignment = P2pFetchPlanner.holdings(CHECKPOINT, List.of(target.view, other.view), "node-a");

        assertEquals(4 * MIB, assignment.heldBytes());
        assertEquals(1, assignment.holdings().size());
        assertEquals("node-b", assignment.holdings().get(0).owner().node(), "never read from the target itself");
        assertEquals(List.of("w4", "w5", "w6"), assignment.holdings().get(0).tensors().stream().map(TensorMeta::name).toList());
        assertEquals(List.of("w7"), assignment.missing().stream().map(TensorMeta::name).toList());
    }

    @Test
    void aHolderWithATensorUnlikeTheCheckpointFailsNamingNodeAndTensor() {
        HolderView a = holder("node-a", 0, 1, 2, 3, 4, 5, 6, 7);
        List<LoadedTensor> changed = new ArrayList<>(a.view.tensors());
        LoadedTensor w5 = changed.get(5);
        changed.set(5, new LoadedTensor(w5.name(), "BF16", w5.shape(), w5.bytes(), w5.buffer(), w5.offset()));
        P2pFetchPlanner.HolderView bad = new P2pFetchPlanner.HolderView(a.view.owner(), "10.0.0.1", 7200, List.of("d0"), changed);

        FlowFailure e = assertThrows(FlowFailure.class, () -> P2pFetchPlanner.holdings(CHECKPOINT, List.of(bad), "node-new"));

        assertEquals("HolderMismatch", e.reason());
        assertTrue(e.getMessage().contains("node node-a holds tensor w5 as BF16"), e.getMessage());
    }

    @Test
    void theReceiverReadsEveryByteOfEveryTensorExactlyOnceFromItsHolder() throws Exception {
        HolderView a = holder("node-a", 0, 1, 2, 3, 4, 5, 6, 7);
        HolderView b = holder("node-b", 0, 1, 2, 3, 4, 5, 6, 7);
        List<P2pFetchPlanner.HolderView> views = List.of(a.view, b.view);
        List<Holding> holdings = P2pFetchPlanner.holdings(CHECKPOINT, views, "node-new").holdings();
        Participant target = new Participant("node-new", 0, "GPU-new-0", 8L << 30, List.of(), "10.0.0.9");
        Plan plan = Planner.plan(new PlanRequest("tiny@v1", Mode.P2P, holdings, List.of(target),
                SizingPolicy.defaults().withBucketBytes(3 * MIB), null, ReceiverStrategy.WEIGHTLIFT, Bandwidths.h200()));

        FetchWork work = P2pFetchPlanner.fetchWork(plan, views);

        assertEquals(List.of("node-a", "node-b"), work.sources().stream().map(FetchWork.Source::node).toList());
        assertEquals(plan.buckets().size(), work.buffers().size());
        Map<String, String> holderOf = new HashMap<>();
        long readBytes = 0;
        for (int i = 0; i < work.buffers().size(); i++) {
            FetchWork.Buffer buffer = work.buffers().get(i);
            for (LoadedTensor t : buffer.tensors()) {
                assertEquals(Integer.toString(i), t.buffer());
                assertTrue(t.offset() + t.bytes() <= buffer.size(), t.name() + " lies inside its buffer");
                FetchWork.Read read = buffer.reads().stream().filter(r -> r.bufferOffset() <= t.offset()
                        && t.offset() + t.bytes() <= r.bufferOffset() + r.length()).findFirst().orElseThrow();
                String node = work.sources().get(read.source()).node();
                long holderOffset = read.sourceOffset() + (t.offset() - read.bufferOffset());
                assertEquals(Long.parseLong(t.name().substring(1)) * MIB, holderOffset, t.name() + " read from its place on " + node);
                assertEquals(null, holderOf.put(t.name(), node), t.name() + " read once");
            }
            readBytes += buffer.reads().stream().mapToLong(FetchWork.Read::length).sum();
        }
        assertEquals(8, holderOf.size());
        assertEquals(8 * MIB, readBytes);
        assertEquals(4, holderOf.values().stream().filter("node-a"::equals).count());
    }

    private record HolderView(P2pFetchPlanner.HolderView view) {
    }

    /** A holder of the listed tensors, each in its buffer 0 at {@code index} MiB (as if it had loaded every file). */
    private static HolderView holder(String node, int... tensors) {
        List<LoadedTensor> held = new ArrayList<>();
        for (int i : tensors) {
            held.add(new LoadedTensor("w" + i, "F32", List.of(MIB / 4), MIB, "0", i * MIB));
        }
        Participant owner = new Participant(node, 0, "GPU-" + node, 8L << 30, List.of(), "10.0.0.1");
        return new HolderView(new P2pFetchPlanner.HolderView(owner, "10.0.0.1", 7200, List.of("d0"), held));
    }

    private static List<TensorMeta> checkpoint() {
        List<TensorMeta> tensors = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            tensors.add(new TensorMeta("w" + i, "F32", List.of(MIB / 4), MIB, "model.safetensors", i * MIB));
        }
        return tensors;
    }
}
