package dev.weightlift.agent.transport.host;

import dev.weightlift.agent.device.MemoryRegion;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A fixed list of broadcasts every rank runs in the same order (roots rotate, lengths not multiples of
 * the chunk), each into its own range of the region, with bytes that depend on the broadcast and seed.
 */
record BroadcastScript(List<Step> steps, long seed) {

    record Step(int root, long offset, long length) {
    }

    static BroadcastScript of(int size, int count, long seed) {
        List<Step> steps = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(seed);
        long offset = 0;
        for (int i = 0; i < count; i++) {
            long length = 1 + random.nextLong(300_000);
            steps.add(new Step(i % size, offset, length));
            offset += length + 64;
        }
        return new BroadcastScript(List.copyOf(steps), seed);
    }

    long regionBytes() {
        Step last = steps.get(steps.size() - 1);
        return last.offset() + last.length() + 64;
    }

    /** Writes the bytes of every step this rank is root of. */
    void fillOwned(MemoryRegion region, int rank) {
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).root() == rank) {
                fill(region, i);
            }
        }
    }

    void fill(MemoryRegion region, int index) {
        Step step = steps.get(index);
        ByteBuffer view = region.view(step.offset(), (int) step.length());
        SplittableRandom random = new SplittableRandom(seed * 31 + index);
        while (view.hasRemaining()) {
            view.put((byte) random.nextInt());
        }
    }

    /** The first mismatch as text, or null when every byte of every step is right. */
    String mismatch(MemoryRegion region, int rank) {
        for (int i = 0; i < steps.size(); i++) {
            Step step = steps.get(i);
            ByteBuffer view = region.view(step.offset(), (int) step.length());
            SplittableRandom random = new SplittableRandom(seed * 31 + i);
            for (int b = 0; b < step.length(); b++) {
                byte expected = (byte) random.nextInt();
                if (view.get(b) != expected) {
                    return "rank " + rank + " broadcast " + i + " byte " + b + ": " + view.get(b) + " != " + expected;
                }
            }
        }
        return null;
    }
}
