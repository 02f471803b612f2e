package dev.weightlift.agent.engine.checkpointengine;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

/**
 * Writes Python pickles, protocol 4, of exactly the values checkpoint-engine's messages are made of: strings,
 * bytes, ints, bools, {@code None}, tuples, lists, dicts with string keys, module globals and
 * {@code REDUCE} calls. Nothing else: this is not a general pickler.
 *
 * <p>The opcodes are the ones CPython's own pickler emits for the same values at protocol 4, minus the two
 * optional ones (FRAME, MEMOIZE): a pickle without frames or memo is valid at every protocol ≥ 2 and
 * {@code pickle.loads} reads it unchanged (PEP 3154).
 *
 * <pre>
 * PROTO 4          0x80 0x04                      first, once
 * SHORT_BINUNICODE 0x8c len:u8 utf-8              str shorter than 256 bytes
 * BINUNICODE       'X' len:u32le utf-8            longer str
 * SHORT_BINBYTES   'C' len:u8 bytes               bytes shorter than 256
 * BINBYTES         'B' len:u32le bytes            longer bytes
 * BININT1          'K' u8                         0 ≤ n &lt; 2^8
 * BININT2          'M' u16le                      2^8 ≤ n &lt; 2^16
 * BININT           'J' s32le                      other n in int32
 * LONG1            0x8a len:u8 two's-complement-le  anything larger
 * NEWTRUE/NEWFALSE 0x88 / 0x89
 * NONE             'N'
 * STACK_GLOBAL     0x93                           module and qualified name (two strs) → the object
 * EMPTY_TUPLE ')'; TUPLE1/2/3 0x85/0x86/0x87; MARK '(' … TUPLE 't' for 4 and more items
 * EMPTY_LIST ']' then APPEND 'a' (one item) or MARK … APPENDS 'e' (batches of 1000)
 * EMPTY_DICT '}' then SETITEM 's' (one pair) or MARK … SETITEMS 'u' (batches of 1000)
 * REDUCE           'R'                            callable, args tuple → callable(*args)
 * STOP             '.'
 * </pre>
 *
 * <p>Every value method pushes exactly one value on the unpickler's stack; {@link #toByteArray()} checks
 * that exactly one is left, so a misuse fails here rather than in the engine.
 */
final class PickleWriter {

    private static final int BATCH = 1000;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    private int depth;

    PickleWriter() {
        out.write(0x80);
        out.write(4);
    }

    /** A module-level global, e.g. {@code torch.bfloat16} or {@code builtins.RuntimeError}. */
    PickleWriter global(String module, String qualifiedName) {
        rawString(module);
        rawString(qualifiedName);
        out.write(0x93);
        depth -= 1;
        return this;
    }

    PickleWriter string(String value) {
        rawString(value);
        return this;
    }

    PickleWriter bytes(byte[] value) {
        if (value.length < 256) {
            out.write('C');
            out.write(value.length);
        } else {
            out.write('B');
            writeInt32(value.length);
        }
        out.writeBytes(value);
        depth++;
        return this;
    }

    PickleWriter integer(long value) {
        if (value >= 0 && value < 0x100) {
            out.write('K');
            out.write((int) value);
        } else if (value >= 0 && value < 0x10000) {
            out.write('M');
            out.write((int) value & 0xff);
            out.write((int) (value >>> 8) & 0xff);
        } else if (value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE) {
            out.write('J');
            writeInt32((int) value);
        } else {
            byte[] bigEndian = BigInteger.valueOf(value).toByteArray();
            out.write(0x8a);
            out.write(bigEndian.length);
            for (int i = bigEndian.length - 1; i >= 0; i--) {
                out.write(bigEndian[i]);
            }
        }
        depth++;
        return this;
    }

    PickleWriter bool(boolean value) {
        out.write(value ? 0x88 : 0x89);
        depth++;
        return this;
    }

    PickleWriter none() {
        out.write('N');
        depth++;
        return this;
    }

    /** A tuple of {@code size} items, written by {@code items}. */
    PickleWriter tuple(int size, Runnable items) {
        int before = depth;
        if (size == 0) {
            out.write(')');
            depth++;
            return this;
        }
        if (size > 3) {
            out.write('(');
        }
        items.run();
        requireWritten(before, size, "tuple");
        switch (size) {
            case 1 -> out.write(0x85);
            case 2 -> out.write(0x86);
            case 3 -> out.write(0x87);
            default -> out.write('t');
        }
        depth = before + 1;
        return this;
    }

    /** A list with one item per element, each written by {@code item}. */
    <T> PickleWriter list(List<T> elements, Consumer<T> item) {
        out.write(']');
        depth++;
        int base = depth;
        for (int from = 0; from < elements.size(); from += BATCH) {
            List<T> batch = elements.subList(from, Math.min(elements.size(), from + BATCH));
            if (batch.size() > 1) {
                out.write('(');
            }
            batch.forEach(item);
            requireWritten(base, batch.size(), "list");
            out.write(batch.size() > 1 ? 'e' : 'a');
            depth = base;
        }
        return this;
    }

    /** A dict of {@code pairs} string-keyed entries, written by {@code entries} as key, value, key, value. */
    PickleWriter dict(int pairs, Runnable entries) {
        if (pairs > BATCH) {
            throw new IllegalArgumentException("dicts of more than " + BATCH + " entries are not needed here");
        }
        out.write('}');
        depth++;
        int base = depth;
        if (pairs == 0) {
            return this;
        }
        if (pairs > 1) {
            out.write('(');
        }
        entries.run();
        requireWritten(base, 2 * pairs, "dict");
        out.write(pairs > 1 ? 'u' : 's');
        depth = base;
        return this;
    }

    /** Calls the callable below the args tuple on the stack: {@code callable(*args)}. */
    PickleWriter reduce() {
        if (depth < 2) {
            throw new IllegalStateException("REDUCE needs a callable and an args tuple on the stack");
        }
        out.write('R');
        depth--;
        return this;
    }

    /** Ends the pickle; exactly one value must be on the stack. */
    byte[] toByteArray() {
        if (depth != 1) {
            throw new IllegalStateException("a pickle holds exactly one value, the stack holds " + depth);
        }
        out.write('.');
        depth = -1;
        return out.toByteArray();
    }

    private void rawString(String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        if (utf8.length < 256) {
            out.write(0x8c);
            out.write(utf8.length);
        } else {
            out.write('X');
            writeInt32(utf8.length);
        }
        out.writeBytes(utf8);
        depth++;
    }

    private void writeInt32(int value) {
        out.write(value & 0xff);
        out.write((value >>> 8) & 0xff);
        out.write((value >>> 16) & 0xff);
        out.write((value >>> 24) & 0xff);
    }

    private void requireWritten(int before, int expected, String what) {
        if (depth - before != expected) {
            throw new IllegalStateException(
                    "a " + what + " of " + expected + " items got " + (depth - before) + " values");
        }
    }
}
