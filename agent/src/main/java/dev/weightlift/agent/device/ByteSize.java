package dev.weightlift.agent.device;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Byte counts written as Kubernetes quantities: {@code 123}, {@code 64Gi}, {@code 512Mi}, {@code 10G}. */
public final class ByteSize {

    private static final Pattern QUANTITY = Pattern.compile("(\\d+)\\s*([KMGTP]i?)?");

    private ByteSize() {
    }

    /** Parses {@code text}; {@code what} names the setting in the error. */
    public static long parse(String what, String text) {
        Matcher m = QUANTITY.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(what + ": '" + text + "' is not a byte count (e.g. 1073741824, 64Gi, 512Mi)");
        }
        long value = Long.parseLong(m.group(1));
        String suffix = m.group(2);
        if (suffix == null) {
            return value;
        }
        int power = "KMGTP".indexOf(suffix.toUpperCase(Locale.ROOT).charAt(0)) + 1;
        long base = suffix.endsWith("i") ? 1024 : 1000;
        long factor = 1;
        for (int i = 0; i < power; i++) {
            factor *= base;
        }
        try {
            return Math.multiplyExact(value, factor);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(what + ": '" + text + "' does not fit in 64 bits", e);
        }
    }
}
