package dev.weightlift.operator.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * checkpoint-engine's assignment next to Weightlift's on the topologies of its golden cases and on the
 * cases where it falls short (shared and multiple NICs, uneven queues). The golden output keeps both
 * schedules; the test also checks that Weightlift never needs more rounds and meets the lower bound.
 */
class P2pAssignmentGoldenTest {

    record OwnerSpec(String node, int gpu, List<String> nics, int buckets) {
    }

    record TargetSpec(String node, int gpu, List<String> nics) {
    }

    record Scenario(String about, List<OwnerSpec> owners, List<TargetSpec> targets) {
    }

    record Outcome(int rounds, int lowerBound, int receiverGpus, int receiverLinks, int senderLinks,
                   List<String> schedule) {
    }

    record Comparison(String about, Outcome checkpointEngine, Outcome weightlift) {
    }

    static Stream<String> scenarios() {
        return Golden.scenarios(P2pAssignmentGoldenTest.class).stream();
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void compare(String scenario) {
        Scenario s = Golden.read(P2pAssignmentGoldenTest.class, scenario, Scenario.class);
        List<Participant> owners = new ArrayList<>();
        List<Bucket> buckets = new ArrayList<>();
        for (OwnerSpec o : s.owners()) {
            Participant p = Fixtures.gpu(o.node(), o.gpu(), 1L << 40, o.nics().toArray(String[]::new));
            owners.add(p);
            for (int i = 0; i < o.buckets(); i++) {
                buckets.add(new Bucket(buckets.size(), p.id(), 1024, List.of(), List.of()));
            }
        }
        List<Participant> targets = s.targets().stream()
                .map(t -> Fixtures.gpu(t.node(), t.gpu(), 1L << 40, t.nics().toArray(String[]::new))).toList();
        int bound = lowerBound(owners, targets, buckets);

        Outcome ce = outcome(Schedules.p2pCheckpointEngine(buckets, owners, targets, 2), bound);
        Outcome wl = outcome(P2pAssignment.assign(buckets, owners, targets, 2), bound);
        assertTrue(wl.rounds() <= ce.rounds(), "Weightlift needs more rounds than checkpoint-engine");
        assertEquals(bound, wl.rounds(), "Weightlift misses the lower bound");
        Golden.check(P2pAssignmentGoldenTest.class, scenario, new Comparison(s.about(), ce, wl));
    }

    /** max(ceil(buckets / concurrent reads), most buckets behind one sender link). */
    private static int lowerBound(List<Participant> owners, List<Participant> targets, List<Bucket> buckets) {
        Map<String, Integer> perLink = new HashMap<>();
        Map<String, Integer> dealt = new HashMap<>();
        Map<String, Participant> byId = new HashMap<>();
        owners.forEach(o -> byId.put(o.id(), o));
        for (Bucket b : buckets) {
            List<String> links = byId.get(b.owner()).links();
            int k = dealt.merge(b.owner(), 1, Integer::sum) - 1;
            perLink.merge(links.get(k % links.size()), 1, Integer::sum);
        }
        Set<String> receiverLinks = new HashSet<>();
        targets.forEach(t -> receiverLinks.addAll(t.links()));
        int concurrency = Math.min(perLink.size(), Math.min(receiverLinks.size(), targets.size()));
        int max = perLink.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        return Math.max((buckets.size() + concurrency - 1) / concurrency, max);
    }

    private static Outcome outcome(List<Transfer> steps, int bound) {
        List<String> lines = new ArrayList<>();
        Set<String> gpus = new HashSet<>();
        Set<String> receiverLinks = new HashSet<>();
        Set<String> senderLinks = new HashSet<>();
        for (Transfer t : steps) {
            lines.add("round " + t.round() + ": bucket " + t.bucket() + " " + t.senderLink() + " -> "
                    + t.receiverLink() + " into " + t.receiver());
            gpus.add(t.receiver());
            receiverLinks.add(t.receiverLink());
            senderLinks.add(t.senderLink());
        }
        int rounds = steps.isEmpty() ? 0 : steps.get(steps.size() - 1).round() + 1;
        return new Outcome(rounds, bound, gpus.size(), receiverLinks.size(), senderLinks.size(), lines);
    }
}
