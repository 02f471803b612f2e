package dev.weightlift.operator.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Invariants of every plan, over random fleets, checkpoints, groupings, memory and modes. */
class PlanInvariantsProperties {

    private static final String GROUPING =
            "model\\.layers\\.(\\d+)\\.(?:(self_attn)|mlp\\.(experts)\\.\\d+\\.(?:gate_proj|up_proj|(down)_proj))";

    record Fleet(long seed, int ownerNodes, int gpusPerNode, int nicsPerNode, int targetNodes, int tensors,
                 boolean grouping, boolean p2p, long freeMemory, LoadRequest.Granularity granularity) {
    }

    @Provide
    Arbitrary<Fleet> fleets() {
        return Combinators.combine(
                Arbitraries.longs(),
                Arbitraries.integers().between(1, 4),
                Arbitraries.integers().between(1, 4),
                Arbitraries.of(0, 1, 2, 4, 8),
                Arbitraries.integers().between(1, 3),
                Arbitraries.integers().between(1, 120),
                Arbitraries.of(true, false),
                Arbitraries.of(true, false)
        ).flatAs((seed, nodes, gpus, nics, targets, tensors, grouping, p2p) -> Combinators.combine(
                Arbitraries.longs().between(20_000, 400_000),
                Arbitraries.of(LoadRequest.Granularity.values())
        ).as((free, granularity) -> new Fleet(seed, nodes, gpus, nics, targets, tensors, grouping, p2p, free,
                granularity)));
    }

    @Property(tries = 300)
    void everyPlanKeepsItsInvariants(@ForAll("fleets") Fleet fleet) {
        Random random = new Random(fleet.seed());
        List<TensorMeta> checkpoint = checkpoint(random, fleet.tensors());
        List<Participant> owners = gpus("old", fleet, random);
        List<Participant> targets = fleet.p2p() ? gpus("new", new Fleet(fleet.seed(), fleet.targetNodes(),
                fleet.gpusPerNode(), fleet.nicsPerNode(), 0, 0, false, true, fleet.freeMemory(), fleet.granularity()),
                random) : owners;
        String pattern = fleet.grouping() ? GROUPING : null;
        LoadAssignment load = LoadPlanner.assign(new LoadRequest(checkpoint, owners, pattern, fleet.granularity()));
        List<Holding> holdings = new ArrayList<>();
        for (int i = 0; i < owners.size(); i++) {
            holdings.add(new Holding(owners.get(i), load.owners().get(i).tensors()));
        }
        PlanRequest request = new PlanRequest("ckpt", fleet.p2p() ? Mode.P2P : Mode.BROADCAST, holdings, targets,
                Fixtures.sizing(16_384), pattern, ReceiverStrategy.WEIGHTLIFT, Fixtures.bandwidths());
        Plan plan;
        try {
            plan = Planner.plan(request);
        } catch (PlanException e) {
            Assume.that(e.getMessage().contains("does not fit") || e.getMessage().contains("bucket size"));
            return;
        }
        checkInvariants(plan, holdings, targets, pattern);

        List<Holding> shuffled = new ArrayList<>();
        for (Holding h : holdings) {
            List<TensorMeta> tensors = new ArrayList<>(h.tensors());
            Collections.shuffle(tensors, random);
            shuffled.add(new Holding(h.owner(), tensors));
        }
        Collections.shuffle(shuffled, random);
        List<Participant> shuffledTargets = new ArrayList<>(targets);
        Collections.shuffle(shuffledTargets, random);
        PlanRequest reordered = new PlanRequest("ckpt", request.mode(), shuffled, shuffledTargets, request.sizing(),
                pattern, ReceiverStrategy.WEIGHTLIFT, request.bandwidths());
        assertEquals(plan, Planner.plan(reordered), "same plan whatever the report order");

        if (fleet.p2p()) {
            Plan baseline = Planner.plan(request.withReceivers(ReceiverStrategy.CHECKPOINT_ENGINE));
            checkInvariants(baseline, holdings, targets, pattern);
            assertTrue(plan.rounds() <= baseline.rounds(),
                    "Weightlift " + plan.rounds() + " rounds, checkpoint-engine " + baseline.rounds());
        }
    }

    private static void checkInvariants(Plan plan, List<Holding> holdings, List<Participant> targets,
                                        String pattern) {
        Map<String, String> ownerOf = new HashMap<>();
        Map<String, TensorMeta> byName = new HashMap<>();
        for (Holding h : holdings) {
            for (TensorMeta t : h.tensors()) {
                ownerOf.put(t.name(), h.owner().id());
                byName.put(t.name(), t);
            }
        }
        assertEquals(targets.stream().map(Participant::id).sorted().toList(), plan.targets());
        assertTrue(plan.sizing().gpuBytesPerGpu() <= plan.sizing().usableFreeBytes(), "buffers fit in memory");

        Map<String, Integer> delivered = new HashMap<>();
        Map<String, Integer> bucketOfGroup = new HashMap<>();
        TensorGrouping grouping = TensorGrouping.of(pattern);
        for (Bucket b : plan.buckets()) {
            assertTrue(b.bytes() <= plan.sizing().bucketBytes(), "bucket " + b.index() + " over size");
            long end = 0;
            for (Bucket.Slot s : b.tensors()) {
                TensorMeta t = byName.get(s.name());
                assertEquals(t.bytes(), s.bytes(), "tensor " + s.name() + " split");
                assertEquals(b.owner(), ownerOf.get(s.name()), "bucket " + b.index() + " mixes owners");
                assertTrue(s.offset() >= end && s.offset() % TensorMeta.ALIGNMENT == 0, "slots overlap or unaligned");
                end = s.offset() + s.bytes();
                assertTrue(end <= b.bytes(), "slot outside bucket");
                assertTrue(copied(b, t, s.offset()), "bytes of " + s.name() + " are copied to its slot");
                String key = grouping.keyOf(s.name());
                if (key != null) {
                    Integer previous = bucketOfGroup.putIfAbsent(key, b.index());
                    assertTrue(previous == null || previous == b.index(), "group " + key + " in two buckets");
                }
                delivered.merge(s.name(), 1, Integer::sum);
            }
        }
        assertEquals(byName.keySet(), delivered.keySet(), "every tensor delivered");
        assertTrue(delivered.values().stream().allMatch(n -> n == 1), "every tensor delivered once");

        Map<Integer, Integer> steps = new HashMap<>();
        Map<Integer, Set<String>> senders = new HashMap<>();
        Map<Integer, Set<String>> receiverLinks = new HashMap<>();
        Map<Integer, Set<String>> receivers = new HashMap<>();
        Set<String> targetIds = new HashSet<>(plan.targets());
        for (int i = 0; i < plan.schedule().size(); i++) {
            Transfer t = plan.schedule().get(i);
            assertEquals(i, t.step());
            steps.merge(t.bucket(), 1, Integer::sum);
            assertEquals(plan.buckets().get(t.bucket()).owner(), t.owner());
            assertTrue(targetIds.contains(t.receiver()), "broadcast root is a target");
            if (plan.mode() == Mode.P2P) {
                assertTrue(senders.computeIfAbsent(t.round(), r -> new HashSet<>()).add(t.senderLink()),
                        "two reads on sender link " + t.senderLink() + " in round " + t.round());
                assertTrue(receiverLinks.computeIfAbsent(t.round(), r -> new HashSet<>()).add(t.receiverLink()),
                        "two reads on receiver link " + t.receiverLink() + " in round " + t.round());
                assertTrue(receivers.computeIfAbsent(t.round(), r -> new HashSet<>()).add(t.receiver()),
                        "two reads into " + t.receiver() + " in round " + t.round());
            } else {
                assertEquals(t.owner(), t.receiver(), "broadcast mode loads locally");
            }
        }
        assertEquals(plan.buckets().size(), steps.size(), "every bucket scheduled");
        assertTrue(steps.values().stream().allMatch(n -> n == 1), "every bucket scheduled once");
    }

    private static boolean copied(Bucket b, TensorMeta t, long slotOffset) {
        if (t.bytes() == 0) {
            return true;
        }
        for (Bucket.CopyRange c : b.copies()) {
            if (c.buffer().equals(t.buffer()) && c.sourceOffset() <= t.offset()
                    && t.offset() + t.bytes() <= c.sourceOffset() + c.length()
                    && c.bucketOffset() + (t.offset() - c.sourceOffset()) == slotOffset) {
                return true;
            }
        }
        return false;
    }

    private static List<Participant> gpus(String prefix, Fleet fleet, Random random) {
        List<Participant> gpus = new ArrayList<>();
        for (int n = 0; n < fleet.ownerNodes(); n++) {
            for (int g = 0; g < fleet.gpusPerNode(); g++) {
                List<String> nics = new ArrayList<>();
                int nicsPerNode = fleet.nicsPerNode();
                if (nicsPerNode > 0) {
                    if (nicsPerNode >= fleet.gpusPerNode()) {
                        int per = nicsPerNode / fleet.gpusPerNode();
                        for (int k = 0; k < per; k++) {
                            nics.add("mlx5_" + (g * per + k));
                        }
                    } else {
                        nics.add("mlx5_" + (g * nicsPerNode / fleet.gpusPerNode()));
                    }
                }
                long free = fleet.freeMemory() + random.nextInt(10_000);
                gpus.add(new Participant(prefix + "-" + n, g, "GPU-" + prefix + n + g, free, nics, "10.1." + n + ".1"));
            }
        }
        return gpus;
    }

    private static List<TensorMeta> checkpoint(Random random, int count) {
        List<TensorMeta> tensors = new ArrayList<>();
        long offset = 0;
        for (int i = 0; i < count; i++) {
            int layer = i / 12;
            String name = switch (random.nextInt(5)) {
                case 0 -> "model.layers." + layer + ".self_attn.w" + i;
                case 1 -> "model.layers." + layer + ".mlp.experts." + i + ".gate_proj.weight";
                case 2 -> "model.layers." + layer + ".mlp.experts." + i + ".down_proj.weight";
                case 3 -> "model.layers." + layer + ".input_layernorm.w" + i;
                default -> "model.extra." + i;
            };
            long bytes = random.nextInt(10) == 0 ? 0 : 1 + random.nextInt(3000);
            String file = "model-" + (i / 10) + ".safetensors";
            if (i % 10 == 0) {
                offset = 0;
            }
            tensors.add(new TensorMeta(name, "BF16", List.of(bytes), bytes, file, offset));
            offset += bytes;
        }
        return tensors;
    }
}
