package dev.weightlift.agent.transport.host;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The transfer's wire format. Every frame starts with a 24-byte header {type, a, b, c}:
 * {@code BCAST} (a = root, b = sequence number, c = length) opens a broadcast; {@code DATA} (a = payload bytes)
 * carries the next bytes of it; {@code ABORT} (a = message bytes, UTF-8 message follows) travels backwards
 * around the ring when a rank fails; {@code BYE} says a rank closes normally.
 */
final class Wire {

    static final int HEADER_BYTES = 24;
    static final int BCAST = 1;
    static final int DATA = 2;
    static final int ABORT = 3;
    static final int BYE = 4;

    static final int HELLO_MAGIC = 0x574C5458;
    static final int VERSION = 1;
    static final int MAX_TEXT_BYTES = 16 * 1024;

    private Wire() {
    }

    record Header(int type, int a, long b, long c) {
    }

    /** A header in words, for error messages. */
    static String describe(Header header) {
        return switch (header.type()) {
            case BCAST -> "broadcast #" + header.b() + " of " + header.c() + " bytes from rank " + header.a();
            case DATA -> "a data frame of " + header.a() + " bytes";
            case ABORT -> "an abort";
            case BYE -> "a goodbye";
            default -> "an unknown frame of type " + header.type();
        };
    }

    static ByteBuffer header(int type, int a, long b, long c) {
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
        buffer.putInt(type).putInt(a).putLong(b).putLong(c).flip();
        return buffer;
    }

    static Header readHeader(SocketChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES);
        readFully(channel, buffer);
        buffer.flip();
        return new Header(buffer.getInt(), buffer.getInt(), buffer.getLong(), buffer.getLong());
    }

    static void writeText(SocketChannel channel, int type, String text) throws IOException {
        byte[] bytes = truncate(text);
        writeFully(channel, header(type, bytes.length, 0, 0));
        writeFully(channel, ByteBuffer.wrap(bytes));
    }

    static String readText(SocketChannel channel, int length) throws IOException {
        if (length < 0 || length > MAX_TEXT_BYTES) {
            throw new IOException("a text frame of " + length + " bytes (at most " + MAX_TEXT_BYTES + ")");
        }
        ByteBuffer buffer = ByteBuffer.allocate(length);
        readFully(channel, buffer);
        return new String(buffer.array(), StandardCharsets.UTF_8);
    }

    static void readFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new EOFException("the connection was closed");
            }
        }
    }

    static void writeFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private static byte[] truncate(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_TEXT_BYTES) {
            return bytes;
        }
        return new String(bytes, 0, MAX_TEXT_BYTES - 16, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
    }

    /** The first bytes of a connection from one rank to the next: who it is and whom it wants. */
    record Hello(String updateId, int fromRank, int toRank, int size) {

        void write(SocketChannel channel) throws IOException {
            byte[] id = updateId.getBytes(StandardCharsets.UTF_8);
            ByteBuffer buffer = ByteBuffer.allocate(20 + id.length);
            buffer.putInt(HELLO_MAGIC).putInt(VERSION).putInt(fromRank).putInt(toRank).putInt(size).put(id).flip();
            writeFully(channel, header(0, buffer.remaining(), 0, 0));
            writeFully(channel, buffer);
        }

        static Hello read(SocketChannel channel) throws IOException {
            Header header = readHeader(channel);
            if (header.type() != 0 || header.a() < 20 || header.a() > 20 + MAX_TEXT_BYTES) {
                throw new IOException("not a Weightlift transfer hello (header " + header + ")");
            }
            ByteBuffer buffer = ByteBuffer.allocate(header.a());
            readFully(channel, buffer);
            buffer.flip();
            int magic = buffer.getInt();
            int version = buffer.getInt();
            if (magic != HELLO_MAGIC || version != VERSION) {
                throw new IOException("not a Weightlift transfer hello of version " + VERSION + " (magic " + Integer.toHexString(magic)
                        + ", version " + version + ")");
            }
            int from = buffer.getInt();
            int to = buffer.getInt();
            int size = buffer.getInt();
            byte[] id = new byte[buffer.remaining()];
            buffer.get(id);
            return new Hello(new String(id, StandardCharsets.UTF_8), from, to, size);
        }
    }

    /** The answer to a hello: an empty text means accepted, anything else is the reason for refusing. */
    static void writeVerdict(SocketChannel channel, String refusal) throws IOException {
        writeText(channel, BYE, refusal == null ? "" : refusal);
    }

    static String readVerdict(SocketChannel channel) throws IOException {
        Header header = readHeader(channel);
        if (header.type() != BYE) {
            throw new IOException("unexpected answer to a hello (header " + header + ")");
        }
        String text = readText(channel, header.a());
        return text.isEmpty() ? null : text;
    }
}
