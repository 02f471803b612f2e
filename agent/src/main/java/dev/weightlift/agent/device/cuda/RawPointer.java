package dev.weightlift.agent.device.cuda;

import org.bytedeco.javacpp.Pointer;

/**
 * A JavaCPP pointer at an absolute address with position 0: JavaCPP adds a pointer's position to its
 * address, so raw device and host addresses are wrapped here rather than in offset {@link Pointer}s.
 */
final class RawPointer extends Pointer {

    RawPointer(long address, long bytes) {
        this.address = address;
        this.limit = bytes;
        this.capacity = bytes;
    }

    /** A pointer that CUDA writes an address into ({@code void**} out-parameters). */
    RawPointer() {
        this(0, 0);
    }
}
