package dev.weightlift.agent.device;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The one place that touches raw native memory: malloc/free/memcpy through JavaCPP (works without CUDA),
 * NIO views of native addresses, and file mappings that are unmapped on close rather than at garbage
 * collection. Every backend goes through here.
 */
public final class NativeMemory {

    /** NIO buffers and {@link FileChannel#map} stop at this many bytes. */
    public static final long MAX_VIEW_BYTES = Integer.MAX_VALUE;

    private static final sun.misc.Unsafe UNSAFE = loadUnsafe();

    private NativeMemory() {
    }

    /** A block from malloc, over-allocated so that {@code alignedAddress} is a multiple of {@code alignment}. */
    public record Block(long baseAddress, long alignedAddress, long size) {
    }

    /** A mapped file window; {@code address} is the first requested byte. */
    public record Mapping(MappedByteBuffer buffer, long address, long size) {
    }

    public static Block allocate(long bytes, int alignment) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("allocation of " + bytes + " bytes");
        }
        if (Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment " + alignment + " is not a power of two");
        }
        Pointer base = Pointer.malloc(bytes + alignment - 1);
        if (base == null || base.isNull()) {
            throw new OutOfMemoryError("malloc of " + (bytes + alignment - 1) + " bytes failed");
        }
        long aligned = (base.address() + alignment - 1) & -(long) alignment;
        return new Block(base.address(), aligned, bytes);
    }

    public static void free(Block block) {
        Pointer.free(new Address(block.baseAddress()));
    }

    /** memcpy of {@code length} bytes; the ranges must not overlap. */
    public static void copy(long srcAddress, long dstAddress, long length) {
        if (length > 0) {
            Pointer.memcpy(new Address(dstAddress), new Address(srcAddress), length);
        }
    }

    public static void fill(long address, int value, long length) {
        if (length > 0) {
            Pointer.memset(new Address(address), value, length);
        }
    }

    /** A little-endian NIO view of native memory at {@code address}; valid as long as that memory is. */
    public static ByteBuffer view(long address, int length) {
        if (length == 0) {
            return ByteBuffer.allocateDirect(0);
        }
        BytePointer pointer = new BytePointer(new Address(address));
        pointer.capacity(length);
        return pointer.asByteBuffer();
    }

    public static long addressOf(ByteBuffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("not a direct buffer");
        }
        return new Pointer(direct).address();
    }

    /**
     * Maps {@code [offset, offset + length)} of an open channel. At most {@link #MAX_VIEW_BYTES} bytes per
     * mapping: NIO's limit, which larger files work around by mapping several windows.
     */
    public static Mapping map(FileChannel channel, FileChannel.MapMode mode, long offset, long length, String what)
            throws IOException {
        if (length <= 0 || length > MAX_VIEW_BYTES) {
            throw new IllegalArgumentException(what + ": cannot map " + length + " bytes in one piece; a mapping holds 1 to "
                    + MAX_VIEW_BYTES + " bytes (FileChannel.map's limit)");
        }
        MappedByteBuffer buffer = channel.map(mode, offset, length);
        return new Mapping(buffer, addressOf(buffer), length);
    }

    /** Unmaps at once (instead of at garbage collection); the buffer and its address must not be used afterwards. */
    public static void unmap(Mapping mapping) {
        UNSAFE.invokeCleaner(mapping.buffer());
    }

    private static sun.misc.Unsafe loadUnsafe() {
        try {
            Field field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            return (sun.misc.Unsafe) field.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final class Address extends Pointer {
        Address(long address) {
            this.address = address;
        }
    }
}
