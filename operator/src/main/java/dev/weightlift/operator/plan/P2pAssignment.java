package dev.weightlift.operator.plan;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Weightlift's P2P assignment. Each owner's buckets are dealt round-robin over all its NICs (a NIC is a
 * link of its own, where checkpoint-engine joins a GPU's NICs into one key). Every round takes, among
 * the receiver (GPU, link) pairs, the least recently used ones with distinct GPUs and distinct links,
 * and gives them the heads of the sender links with the most buckets left. Taking the longest queues
 * first is Hu's rule for unit jobs in chains, so the number of rounds is the lower bound
 * max(ceil(buckets / concurrency), most buckets on one sender link); rotating receivers leaves each
 * receiver GPU idle between its reads when there are more receivers than sender links, so its next
 * read can overlap the broadcast of its previous bucket.
 */
public final class P2pAssignment {

    private P2pAssignment() {
    }

    public static List<Transfer> assign(List<Bucket> buckets, List<Participant> owners, List<Participant> targets,
                                        int slots) {
        if (targets.isEmpty()) {
            throw new PlanException("P2P update without target GPUs");
        }
        Map<String, Participant> ownerById = new HashMap<>();
        owners.forEach(o -> ownerById.put(o.id(), o));
        LinkedHashMap<String, ArrayDeque<Bucket>> queues = new LinkedHashMap<>();
        Map<String, Integer> dealt = new HashMap<>();
        for (Bucket b : buckets) {
            Participant owner = ownerById.get(b.owner());
            if (owner == null) {
                throw new PlanException("bucket " + b.index() + " belongs to unknown owner " + b.owner());
            }
            List<String> links = owner.links();
            int k = dealt.merge(b.owner(), 1, Integer::sum) - 1;
            queues.computeIfAbsent(links.get(k % links.size()), l -> new ArrayDeque<>()).add(b);
        }
        List<String> linkOrder = new ArrayList<>(queues.keySet());

        List<Candidate> candidates = new ArrayList<>();
        for (Participant t : targets) {
            for (String link : t.links()) {
                candidates.add(new Candidate(candidates.size(), t.id(), link));
            }
        }
        Map<String, Integer> gpuLastUsed = new HashMap<>();
        Map<String, Integer> linkLastUsed = new HashMap<>();
        Comparator<Candidate> leastRecent = Comparator
                .<Candidate>comparingInt(c -> gpuLastUsed.getOrDefault(c.gpu, -1))
                .thenComparingInt(c -> linkLastUsed.getOrDefault(c.link, -1))
                .thenComparingInt(c -> c.index);
        Map<String, Integer> linkRank = new HashMap<>();
        for (int i = 0; i < linkOrder.size(); i++) {
            linkRank.put(linkOrder.get(i), i);
        }
        Comparator<String> longestFirst = Comparator.<String>comparingInt(l -> -queues.get(l).size())
                .thenComparingInt(linkRank::get);

        List<Transfer> steps = new ArrayList<>(buckets.size());
        int remaining = buckets.size();
        for (int round = 0; remaining > 0; round++) {
            List<String> senders = new ArrayList<>();
            for (String l : linkOrder) {
                if (!queues.get(l).isEmpty()) {
                    senders.add(l);
                }
            }
            senders.sort(longestFirst);
            List<Candidate> sorted = new ArrayList<>(candidates);
            sorted.sort(leastRecent);
            Set<String> gpus = new HashSet<>();
            Set<String> links = new HashSet<>();
            int used = 0;
            for (Candidate c : sorted) {
                if (used == senders.size()) {
                    break;
                }
                if (gpus.contains(c.gpu) || links.contains(c.link)) {
                    continue;
                }
                gpus.add(c.gpu);
                links.add(c.link);
                String sender = senders.get(used++);
                Bucket b = queues.get(sender).poll();
                int step = steps.size();
                steps.add(new Transfer(step, round, b.index(), b.owner(), c.gpu, step % slots, sender, c.link));
                gpuLastUsed.put(c.gpu, round);
                linkLastUsed.put(c.link, round);
                remaining--;
            }
        }
        return steps;
    }

    private record Candidate(int index, String gpu, String link) {
    }
}
