package dev.weightlift.operator.plan;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Packs each owner's tensors greedily, in (buffer, offset) order, into buckets of at most the bucket
 * size: a new bucket at every owner boundary and whenever the next unit would overflow (checkpoint-engine
 * section 7.2). A unit is a tensor or a whole group, so no tensor is split, no owner mixed, no group
 * broken.
 */
public final class BucketBuilder {

    private BucketBuilder() {
    }

    /**
     * @param holdings owners in plan order, tensors in (buffer, offset) order
     * @param units    each holding's units, from {@link TensorGrouping#units}, groups checked to stay on one
     *                 owner ({@link #checkGroupsOnOneOwner})
     */
    public static List<Bucket> build(List<Holding> holdings, List<List<TensorGrouping.Unit>> units, long bucketBytes) {
        List<Bucket> buckets = new ArrayList<>();
        for (int h = 0; h < holdings.size(); h++) {
            String owner = holdings.get(h).owner().id();
            Packer packer = new Packer(owner, buckets);
            for (TensorGrouping.Unit unit : units.get(h)) {
                long size = unit.alignedBytes();
                if (size > bucketBytes) {
                    throw new PlanException("the " + unit.label() + " on " + owner + " needs " + size
                            + " bytes (256-aligned), more than the bucket size " + bucketBytes
                            + " bytes; raise spec.bucketSize or free GPU memory, or use a finer grouping pattern");
                }
                if (packer.used + size > bucketBytes) {
                    packer.close();
                }
                for (TensorMeta t : unit.tensors()) {
                    packer.add(t, unit.group());
                }
            }
            packer.close();
        }
        return buckets;
    }

    public static void checkGroupsOnOneOwner(List<Holding> holdings, TensorGrouping grouping) {
        if (!grouping.enabled()) {
            return;
        }
        Map<String, String[]> firstSeen = new HashMap<>();
        for (Holding h : holdings) {
            for (TensorMeta t : h.tensors()) {
                String key = grouping.keyOf(t.name());
                if (key == null) {
                    continue;
                }
                String[] first = firstSeen.putIfAbsent(key, new String[] {h.owner().id(), t.name()});
                if (first != null && !first[0].equals(h.owner().id())) {
                    throw new PlanException("group '" + key + "' is split between owners " + first[0] + " (tensor '"
                            + first[1] + "') and " + h.owner().id() + " (tensor '" + t.name()
                            + "'); load the checkpoint with the same grouping pattern");
                }
            }
        }
    }

    private static final class Packer {
        private final String owner;
        private final List<Bucket> out;
        private final List<Bucket.Slot> slots = new ArrayList<>();
        private final List<Bucket.CopyRange> copies = new ArrayList<>();
        private long used;

        Packer(String owner, List<Bucket> out) {
            this.owner = owner;
            this.out = out;
        }

        void add(TensorMeta t, String group) {
            slots.add(new Bucket.Slot(t.name(), t.dtype(), t.shape(), t.bytes(), used, group));
            Bucket.CopyRange last = copies.isEmpty() ? null : copies.get(copies.size() - 1);
            if (last != null && last.buffer().equals(t.buffer())
                    && last.sourceOffset() + last.length() == t.offset()
                    && last.bucketOffset() + last.length() == used) {
                copies.set(copies.size() - 1, new Bucket.CopyRange(last.buffer(), last.sourceOffset(),
                        last.bucketOffset(), last.length() + t.bytes()));
            } else if (t.bytes() > 0) {
                copies.add(new Bucket.CopyRange(t.buffer(), t.offset(), used, t.bytes()));
            }
            used += t.alignedBytes();
        }

        void close() {
            if (slots.isEmpty()) {
                return;
            }
            out.add(new Bucket(out.size(), owner, used, slots, copies));
            slots.clear();
            copies.clear();
            used = 0;
        }
    }
}
