package dev.weightlift.agent.transport.ucx;

import dev.weightlift.agent.device.MemoryRegion;
import java.nio.ByteBuffer;

/** Bytes that depend on buffer, position and seed, so any misplaced byte shows. */
final class Pattern {

    private Pattern() {
    }

    static byte at(long seed, int buffer, long position) {
        long x = seed * 0x9E3779B97F4A7C15L + buffer * 0xBF58476D1CE4E5B9L + position * 0x94D049BB133111EBL;
        x ^= x >>> 29;
        return (byte) (x ^ (x >>> 17));
    }

    static void fill(MemoryRegion region, long seed, int buffer) {
        ByteBuffer view = region.view(0, (int) region.size());
        for (int i = 0; i < region.size(); i++) {
            view.put(i, at(seed, buffer, i));
        }
    }

    /** The first wrong byte of {@code [stagingOffset, +length)} as text, or null. */
    static String check(MemoryRegion staging, long stagingOffset, long length, long seed, int buffer, long bufferOffset) {
        ByteBuffer view = staging.view(stagingOffset, (int) length);
        for (int i = 0; i < length; i++) {
            byte expected = at(seed, buffer, bufferOffset + i);
            if (view.get(i) != expected) {
                return "buffer " + buffer + " byte " + (bufferOffset + i) + ": " + view.get(i) + " != " + expected;
            }
        }
        return null;
    }
}
