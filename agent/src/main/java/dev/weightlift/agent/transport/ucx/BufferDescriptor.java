package dev.weightlift.agent.transport.ucx;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * What a holder exposes of one registered buffer: its id, its virtual address and size in the holder's
 * process, and the packed UCX remote key that lets a receiver read it. Plain bytes ({@link #toBytes()}),
 * or base64 for JSON ({@link #toBase64()}); the control plane carries them with the holder's P2P address.
 */
public record BufferDescriptor(String bufferId, long address, long size, byte[] remoteKey) {

    private static final int MAGIC = 0x574C4231;

    public BufferDescriptor {
        Objects.requireNonNull(bufferId, "bufferId");
        Objects.requireNonNull(remoteKey, "remoteKey");
        if (size <= 0 || remoteKey.length == 0) {
            throw new IllegalArgumentException("buffer " + bufferId + ": size " + size + ", remote key of " + remoteKey.length
                    + " bytes");
        }
        remoteKey = remoteKey.clone();
    }

    @Override
    public byte[] remoteKey() {
        return remoteKey.clone();
    }

    public byte[] toBytes() {
        byte[] id = bufferId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(4 + 4 + id.length + 8 + 8 + 4 + remoteKey.length);
        buffer.putInt(MAGIC).putInt(id.length).put(id).putLong(address).putLong(size).putInt(remoteKey.length).put(remoteKey);
        return buffer.array();
    }

    public String toBase64() {
        return Base64.getEncoder().encodeToString(toBytes());
    }

    public static BufferDescriptor fromBytes(byte[] bytes) {
        try {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            if (buffer.getInt() != MAGIC) {
                throw new IllegalArgumentException("not a Weightlift P2P buffer descriptor (wrong magic)");
            }
            byte[] id = new byte[buffer.getInt()];
            buffer.get(id);
            long address = buffer.getLong();
            long size = buffer.getLong();
            byte[] key = new byte[buffer.getInt()];
            buffer.get(key);
            if (buffer.hasRemaining()) {
                throw new IllegalArgumentException("P2P buffer descriptor: " + buffer.remaining() + " bytes after the remote key");
            }
            return new BufferDescriptor(new String(id, StandardCharsets.UTF_8), address, size, key);
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException) {
                throw e;
            }
            throw new IllegalArgumentException("P2P buffer descriptor of " + bytes.length + " bytes is truncated or malformed", e);
        }
    }

    public static BufferDescriptor fromBase64(String text) {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("P2P buffer descriptor is not base64: " + e.getMessage(), e);
        }
        return fromBytes(bytes);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof BufferDescriptor that && bufferId.equals(that.bufferId) && address == that.address
                && size == that.size && Arrays.equals(remoteKey, that.remoteKey);
    }

    @Override
    public int hashCode() {
        return Objects.hash(bufferId, address, size, Arrays.hashCode(remoteKey));
    }

    @Override
    public String toString() {
        return "buffer " + bufferId + " [" + size + " B at 0x" + Long.toHexString(address) + "]";
    }
}
