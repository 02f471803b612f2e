package dev.weightlift.agent.store.meta;

import dev.weightlift.agent.store.TensorLocation;
import dev.weightlift.agent.store.safetensors.Dtype;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * The compact binary form of a tensor table, deflated and base64-encoded so it travels inside JSON.
 * Per tensor, in order: the length of the prefix shared with the previous name, the rest of the name, the
 * dtype, the shape, the buffer index and the gap after the previous tensor's end (0 or the alignment
 * padding); sizes are derived from dtype and shape. Integers are unsigned LEB128 varints. Format name
 * {@value #FORMAT}.
 */
public final class TensorTableCodec {

    public static final String FORMAT = "weightlift-tensors-v1+deflate+base64";

    private static final int MAGIC = 0x574c5431;
    private static final int MAX_DECODED_BYTES = 256 << 20;

    private TensorTableCodec() {
    }

    public static String encode(List<TensorLocation> tensors) {
        Writer out = new Writer();
        out.varint(MAGIC);
        out.varint(tensors.size());
        String previousName = "";
        int previousBuffer = -1;
        long previousEnd = 0;
        for (TensorLocation t : tensors) {
            int shared = sharedPrefix(previousName, t.name());
            byte[] suffix = t.name().substring(shared).getBytes(StandardCharsets.UTF_8);
            out.varint(shared);
            out.varint(suffix.length);
            out.bytes(suffix);
            out.varint(t.dtype().ordinal());
            long[] shape = t.shape();
            out.varint(shape.length);
            for (long dim : shape) {
                out.varint(dim);
            }
            out.varint(t.buffer());
            long expected = t.buffer() == previousBuffer ? previousEnd : 0;
            out.varint(zigzag(t.offset() - expected));
            previousName = t.name();
            previousBuffer = t.buffer();
            previousEnd = t.offset() + t.nbytes();
        }
        return Base64.getEncoder().encodeToString(deflate(out.toByteArray()));
    }

    /**
     * @throws IllegalArgumentException when {@code encoded} is not a table in this format
     */
    public static List<TensorLocation> decode(String encoded) {
        Reader in = new Reader(inflate(Base64.getDecoder().decode(encoded)));
        if (in.varint() != MAGIC) {
            throw new IllegalArgumentException("not a " + FORMAT + " tensor table");
        }
        long count = in.varint();
        List<TensorLocation> tensors = new ArrayList<>((int) Math.min(count, 1 << 20));
        String previousName = "";
        int previousBuffer = -1;
        long previousEnd = 0;
        Dtype[] dtypes = Dtype.values();
        for (long i = 0; i < count; i++) {
            int shared = (int) in.varint();
            int suffixLength = (int) in.varint();
            if (shared > previousName.length()) {
                throw new IllegalArgumentException("tensor " + i + ": shared prefix longer than the previous name");
            }
            String name = previousName.substring(0, shared) + new String(in.bytes(suffixLength), StandardCharsets.UTF_8);
            int dtypeIndex = (int) in.varint();
            if (dtypeIndex >= dtypes.length) {
                throw new IllegalArgumentException("tensor '" + name + "': unknown dtype index " + dtypeIndex);
            }
            Dtype dtype = dtypes[dtypeIndex];
            long[] shape = new long[(int) in.varint()];
            long elements = 1;
            for (int d = 0; d < shape.length; d++) {
                shape[d] = in.varint();
                elements = Math.multiplyExact(elements, shape[d]);
            }
            int buffer = (int) in.varint();
            long expected = buffer == previousBuffer ? previousEnd : 0;
            long offset = expected + unzigzag(in.varint());
            long nbytes = dtype.bytesFor(elements);
            tensors.add(new TensorLocation(name, dtype, shape, nbytes, buffer, offset));
            previousName = name;
            previousBuffer = buffer;
            previousEnd = offset + nbytes;
        }
        return tensors;
    }

    private static int sharedPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        if (i > 0 && i < b.length() && Character.isLowSurrogate(b.charAt(i))) {
            i--;
        }
        return i;
    }

    private static long zigzag(long v) {
        return (v << 1) ^ (v >> 63);
    }

    private static long unzigzag(long v) {
        return (v >>> 1) ^ -(v & 1);
    }

    private static byte[] deflate(byte[] raw) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        try {
            deflater.setInput(raw);
            deflater.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 4 + 64);
            byte[] chunk = new byte[64 << 10];
            while (!deflater.finished()) {
                out.write(chunk, 0, deflater.deflate(chunk));
            }
            return out.toByteArray();
        } finally {
            deflater.end();
        }
    }

    private static byte[] inflate(byte[] compressed) {
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(compressed);
            ByteArrayOutputStream out = new ByteArrayOutputStream(compressed.length * 4);
            byte[] chunk = new byte[64 << 10];
            while (!inflater.finished()) {
                int n = inflater.inflate(chunk);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new IllegalArgumentException("truncated tensor table");
                }
                if (out.size() + n > MAX_DECODED_BYTES) {
                    throw new IllegalArgumentException("tensor table inflates past " + MAX_DECODED_BYTES + " bytes");
                }
                out.write(chunk, 0, n);
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("corrupt tensor table: " + e.getMessage(), e);
        } finally {
            inflater.end();
        }
    }

    private static final class Writer extends ByteArrayOutputStream {
        void varint(long value) {
            long v = value;
            while ((v & ~0x7FL) != 0) {
                write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            write((int) v);
        }

        void bytes(byte[] b) {
            write(b, 0, b.length);
        }
    }

    private static final class Reader {
        private final byte[] data;
        private int position;

        Reader(byte[] data) {
            this.data = data;
        }

        long varint() {
            long value = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (position >= data.length) {
                    throw new IllegalArgumentException("truncated tensor table");
                }
                byte b = data[position++];
                value |= (long) (b & 0x7F) << shift;
                if (b >= 0) {
                    return value;
                }
            }
            throw new IllegalArgumentException("malformed varint in tensor table");
        }

        byte[] bytes(int length) {
            if (length < 0 || length > data.length - position) {
                throw new IllegalArgumentException("truncated tensor table");
            }
            byte[] out = new byte[length];
            System.arraycopy(data, position, out, 0, length);
            position += length;
            return out;
        }
    }
}
