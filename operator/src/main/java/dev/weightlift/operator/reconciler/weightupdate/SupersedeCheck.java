package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Conflicts between updates of one namespace: two updates conflict when one pod matches both selectors. The
 * newer (later creation timestamp, then greater name with runs of digits compared as numbers, so that
 * {@code step-10} is newer than {@code step-9} created in the same second: timestamps have a resolution of one
 * second) supersedes the older. Pure.
 */
public final class SupersedeCheck {

    /** Order of age: older first. */
    public static final Comparator<WeightUpdate> AGE = Comparator
            .comparing((WeightUpdate u) -> created(u))
            .thenComparing((WeightUpdate u) -> u.getMetadata().getName(), SupersedeCheck::compareNatural);

    private SupersedeCheck() {
    }

    /** The newest peer newer than {@code self} that selects one of {@code selected}, the pods {@code self} selects. */
    public static Optional<WeightUpdate> supersededBy(WeightUpdate self, List<Pod> selected, Collection<WeightUpdate> peers) {
        return conflicting(self, selected, peers).stream()
                .filter(peer -> AGE.compare(peer, self) > 0)
                .max(AGE);
    }

    /** The peers older than {@code self} that select one of {@code selected}: they are superseded by it. */
    public static List<WeightUpdate> superseding(WeightUpdate self, List<Pod> selected, Collection<WeightUpdate> peers) {
        return conflicting(self, selected, peers).stream().filter(peer -> AGE.compare(peer, self) < 0).toList();
    }

    private static List<WeightUpdate> conflicting(WeightUpdate self, List<Pod> selected, Collection<WeightUpdate> peers) {
        List<WeightUpdate> result = new ArrayList<>();
        for (WeightUpdate peer : peers) {
            if (peer.getMetadata().getName().equals(self.getMetadata().getName())
                    || !peer.getMetadata().getNamespace().equals(self.getMetadata().getNamespace())
                    || peer.getMetadata().getDeletionTimestamp() != null || peer.getSpec() == null) {
                continue;
            }
            PodSelector selector = PodSelector.parse(peer.getSpec().getSelector(), "spec.selector", new ArrayList<>());
            if (selector != null && selected.stream().anyMatch(pod -> selector.matches(pod.getMetadata().getLabels()))) {
                result.add(peer);
            }
        }
        return result;
    }

    /** Compares names with each run of digits compared as a number: {@code step-9 < step-10}. */
    static int compareNatural(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i);
            char cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int endA = digitsEnd(a, i);
                int endB = digitsEnd(b, j);
                String da = a.substring(i, endA).replaceFirst("^0+(?=.)", "");
                String db = b.substring(j, endB).replaceFirst("^0+(?=.)", "");
                int byValue = da.length() != db.length() ? Integer.compare(da.length(), db.length()) : da.compareTo(db);
                if (byValue != 0) {
                    return byValue;
                }
                i = endA;
                j = endB;
            } else {
                if (ca != cb) {
                    return Character.compare(ca, cb);
                }
                i++;
                j++;
            }
        }
        int byRest = Integer.compare(a.length() - i, b.length() - j);
        return byRest != 0 ? byRest : a.compareTo(b);
    }

    private static int digitsEnd(String s, int from) {
        int end = from;
        while (end < s.length() && Character.isDigit(s.charAt(end))) {
            end++;
        }
        return end;
    }

    private static Instant created(WeightUpdate update) {
        String timestamp = update.getMetadata().getCreationTimestamp();
        return timestamp == null ? Instant.MAX : Instant.parse(timestamp);
    }
}
