package dev.weightlift.operator.plan;

import java.util.ArrayList;
import java.util.List;

/** Small builders for test fleets and checkpoints. */
final class Fixtures {

    private Fixtures() {
    }

    static Participant gpu(String node, int index, long free, String... nics) {
        return new Participant(node, index, "GPU-" + node + "-" + index, free, List.of(nics), "10.0.0." + index);
    }

    static TensorMeta tensor(String name, long bytes, String buffer, long offset) {
        return new TensorMeta(name, "BF16", List.of(bytes / 2), bytes, buffer, offset);
    }

    /** {@code count} tensors of {@code bytes} each, laid out back to back in one buffer. */
    static List<TensorMeta> tensors(String prefix, int count, long bytes, String buffer) {
        List<TensorMeta> list = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            list.add(tensor(prefix + i, bytes, buffer, i * bytes));
        }
        return list;
    }

    static Bandwidths bandwidths() {
        return new Bandwidths(50, 100, 200, 40, 40, 400, 10, 1);
    }

    static SizingPolicy sizing(long maxBucketBytes) {
        return new SizingPolicy(0.9, maxBucketBytes, 0, 3, 0.95, 256);
    }
}
