package dev.weightlift.agent.bench;

import dev.weightlift.agent.device.ByteSize;
import java.util.HashMap;
import java.util.Map;

/** {@code --name value} arguments of the benchmark mains; sizes take Kubernetes suffixes (16Gi). */
final class BenchArgs {

    private final Map<String, String> values = new HashMap<>();

    BenchArgs(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'");
            }
            values.put(args[i].substring(2), args[++i]);
        }
    }

    String text(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    String text(String name) {
        String value = values.get(name);
        if (value == null) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return value;
    }

    long bytes(String name, String fallback) {
        return ByteSize.parse("--" + name, text(name, fallback));
    }

    int integer(String name, int fallback) {
        return Integer.parseInt(text(name, Integer.toString(fallback)));
    }

    double number(String name, double fallback) {
        return Double.parseDouble(text(name, Double.toString(fallback)));
    }
}
