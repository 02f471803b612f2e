package dev.weightlift.agent.engine.nativeprotocol;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.time.Instant;

/**
 * One connection speaking frames, with a deadline on every read and write (a non-blocking channel and
 * its own selector: blocking socket channels have no read timeout). Not thread-safe: one caller at a time.
 */
public final class FrameConnection implements AutoCloseable {

    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private final FrameCodec codec;
    private final String peer;

    public FrameConnection(SocketChannel channel, FrameCodec codec, String peer) throws IOException {
        this.channel = channel;
        this.codec = codec;
        this.peer = peer;
        channel.configureBlocking(false);
        this.selector = Selector.open();
        this.key = channel.register(selector, 0);
    }

    public String peer() {
        return peer;
    }

    public boolean isOpen() {
        return channel.isOpen();
    }

    /**
     * Reads one frame.
     *
     * @throws SocketTimeoutException when {@code deadline} passes first
     * @throws EOFException when the peer closed the connection
     * @throws ProtocolException for a malformed frame
     */
    public Frame read(Instant deadline) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(FrameCodec.HEADER_BYTES);
        fill(header, deadline, true);
        int[] lengths = codec.decodeHeader(header);
        ByteBuffer json = ByteBuffer.allocate(lengths[0]);
        fill(json, deadline, false);
        ByteBuffer raw = ByteBuffer.allocate(lengths[1]);
        fill(raw, deadline, false);
        return codec.decodeBody(json.array(), raw.array());
    }

    public void write(Frame frame, Instant deadline) throws IOException {
        ByteBuffer out = codec.encode(frame);
        while (out.hasRemaining()) {
            if (channel.write(out) == 0) {
                await(SelectionKey.OP_WRITE, deadline, "writing a '" + frame.type() + "' message");
            }
        }
    }

    private void fill(ByteBuffer buffer, Instant deadline, boolean atFrameStart) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer);
            if (n < 0) {
                throw new EOFException(atFrameStart && buffer.position() == 0
                        ? "connection closed by " + peer
                        : "connection closed by " + peer + " in the middle of a frame");
            }
            if (n == 0) {
                await(SelectionKey.OP_READ, deadline, "waiting for a message");
            }
        }
    }

    private void await(int op, Instant deadline, String what) throws IOException {
        key.interestOps(op);
        try {
            while (true) {
                long remaining = Duration.between(Instant.now(), deadline).toMillis();
                if (remaining <= 0) {
                    throw new SocketTimeoutException("deadline passed " + what + " from " + peer);
                }
                if (selector.select(remaining) > 0) {
                    selector.selectedKeys().clear();
                    return;
                }
            }
        } finally {
            key.interestOps(0);
        }
    }

    @Override
    public void close() {
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing a selector only fails when it is already closed
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // the connection is gone either way
        }
    }
}
