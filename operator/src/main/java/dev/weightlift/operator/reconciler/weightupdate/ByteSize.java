package dev.weightlift.operator.reconciler.weightupdate;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the binary quantities of the spec: {@code 536870912}, {@code 512Ki}, {@code 512Mi}, {@code 2Gi}. */
public final class ByteSize {

    private static final Pattern QUANTITY = Pattern.compile("^([1-9][0-9]*)(Ki|Mi|Gi)?$");

    private ByteSize() {
    }

    /** Bytes of {@code quantity}; throws IllegalArgumentException naming the problem. */
    public static long parse(String quantity) {
        Matcher m = QUANTITY.matcher(quantity == null ? "" : quantity);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + quantity + "' is not a byte count with an optional suffix Ki, Mi or Gi");
        }
        int shift = m.group(2) == null ? 0 : switch (m.group(2)) {
            case "Ki" -> 10;
            case "Mi" -> 20;
            default -> 30;
        };
        try {
            long number = Long.parseLong(m.group(1));
            if (number > (Long.MAX_VALUE >> shift)) {
                throw new NumberFormatException();
            }
            return number << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + quantity + "' is too large");
        }
    }
}
