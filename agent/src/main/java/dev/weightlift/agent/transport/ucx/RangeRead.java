package dev.weightlift.agent.transport.ucx;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One assigned read: {@code length} bytes at {@code bufferOffset} of a holder's buffer into
 * {@code stagingOffset} of the receiver's staging region.
 *
 * @param holder the holder's P2P address (its node's host IP and {@code WEIGHTLIFT_P2P_PORT})
 */
public record RangeRead(InetSocketAddress holder, BufferDescriptor buffer, long bufferOffset, long length, long stagingOffset) {

    public RangeRead {
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(buffer, "buffer");
        if (bufferOffset < 0 || length <= 0 || stagingOffset < 0 || bufferOffset > buffer.size() - length) {
            throw new IllegalArgumentException("read [" + bufferOffset + ", +" + length + ") of " + buffer + " into staging offset "
                    + stagingOffset + " is out of range");
        }
    }

    @Override
    public String toString() {
        return "[" + bufferOffset + ", +" + length + ") of " + buffer.bufferId() + " from " + holder.getHostString() + ":"
                + holder.getPort();
    }
}
