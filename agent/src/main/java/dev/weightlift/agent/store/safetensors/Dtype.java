package dev.weightlift.agent.store.safetensors;

import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Every element type safetensors defines (its {@code Dtype} enum), with its width in bits. */
public enum Dtype {
    BOOL(8), F4(4), F6_E2M3(6), F6_E3M2(6), U8(8), I8(8), F8_E5M2(8), F8_E4M3(8), F8_E8M0(8), F8_E4M3FNUZ(8),
    F8_E5M2FNUZ(8), I16(16), U16(16), F16(16), BF16(16), I32(32), U32(32), F32(32), C64(64), F64(64), I64(64),
    U64(64);

    private static final Map<String, Dtype> BY_NAME = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(Dtype::name, Function.identity()));

    private final int bits;

    Dtype(int bits) {
        this.bits = bits;
    }

    public int bits() {
        return bits;
    }

    /** The dtype spelled {@code name} exactly as in a safetensors header, or null. */
    public static Dtype byName(String name) {
        return BY_NAME.get(name);
    }

    /**
     * Bytes of {@code elements} elements.
     *
     * @throws ArithmeticException when the size overflows 64 bits
     * @throws IllegalArgumentException when the elements do not fill whole bytes (sub-byte dtypes)
     */
    public long bytesFor(long elements) {
        long totalBits = Math.multiplyExact(elements, (long) bits);
        if (totalBits % 8 != 0) {
            throw new IllegalArgumentException(elements + " elements of " + this + " (" + bits
                    + " bits each) do not fill whole bytes");
        }
        return totalBits / 8;
    }
}
