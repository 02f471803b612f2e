package dev.weightlift.agent;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The agent's settings, read from the environment of the runtime contract. Every bad or missing value is an
 * error that names the variable.
 */
public record AgentEnvironment(
        String nodeName,
        String hostIp,
        String hubEndpoint,
        Path curveDir,
        String backend,
        Path socketDir,
        int socketMode,
        Optional<String> socketGroup,
        OptionalLong hostMemoryLimit,
        int httpPort,
        int p2pPort) {

    public static AgentEnvironment from(Map<String, String> env) {
        return new AgentEnvironment(
                required(env, "NODE_NAME"),
                required(env, "HOST_IP"),
                required(env, "WEIGHTLIFT_HUB_ENDPOINT"),
                Path.of(optional(env, "WEIGHTLIFT_CURVE_DIR").orElse("/etc/weightlift/curve")),
                backend(env),
                Path.of(optional(env, "WEIGHTLIFT_SOCKET_DIR").orElse("/run/weightlift")),
                socketMode(optional(env, "WEIGHTLIFT_SOCKET_MODE").orElse("0660")),
                optional(env, "WEIGHTLIFT_SOCKET_GROUP"),
                optional(env, "WEIGHTLIFT_HOST_MEMORY_LIMIT").map(v -> OptionalLong.of(bytes(v)))
                        .orElse(OptionalLong.empty()),
                port(env, "WEIGHTLIFT_HTTP_PORT", 9400),
                port(env, "WEIGHTLIFT_P2P_PORT", 7200));
    }

    /** A byte count: plain bytes, or with a binary ({@code Ki Mi Gi Ti}) or decimal ({@code k M G T}) suffix. */
    static long bytes(String value) {
        String text = value.strip();
        String[][] suffixes = {{"Ki", "1024"}, {"Mi", "1048576"}, {"Gi", "1073741824"}, {"Ti", "1099511627776"},
            {"k", "1000"}, {"K", "1000"}, {"M", "1000000"}, {"G", "1000000000"}, {"T", "1000000000000"}};
        long multiplier = 1;
        for (String[] suffix : suffixes) {
            if (text.endsWith(suffix[0])) {
                multiplier = Long.parseLong(suffix[1]);
                text = text.substring(0, text.length() - suffix[0].length());
                break;
            }
        }
        try {
            long number = Long.parseLong(text);
            if (number < 0) {
                throw new NumberFormatException("negative");
            }
            return Math.multiplyExact(number, multiplier);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("WEIGHTLIFT_HOST_MEMORY_LIMIT='" + value
                    + "' is not a byte count (e.g. 68719476736 or 64Gi)", e);
        }
    }

    private static String backend(Map<String, String> env) {
        String backend = required(env, "WEIGHTLIFT_BACKEND").toLowerCase(Locale.ROOT);
        if (!backend.equals("cuda") && !backend.equals("host")) {
            throw new IllegalArgumentException("WEIGHTLIFT_BACKEND='" + backend + "' must be 'cuda' or 'host'");
        }
        return backend;
    }

    private static int socketMode(String value) {
        try {
            int mode = Integer.parseInt(value.strip(), 8);
            if (mode < 0 || mode > 0777) {
                throw new NumberFormatException("out of range");
            }
            return mode;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("WEIGHTLIFT_SOCKET_MODE='" + value + "' is not an octal file mode "
                    + "(e.g. 0660)", e);
        }
    }

    private static int port(Map<String, String> env, String name, int fallback) {
        Optional<String> value = optional(env, name);
        if (value.isEmpty()) {
            return fallback;
        }
        try {
            int port = Integer.parseInt(value.get().strip());
            if (port < 0 || port > 65535) {
                throw new NumberFormatException("out of range");
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "='" + value.get() + "' is not a TCP port", e);
        }
    }

    private static String required(Map<String, String> env, String name) {
        return optional(env, name).orElseThrow(() -> new IllegalArgumentException(
                "environment variable " + name + " is required"));
    }

    private static Optional<String> optional(Map<String, String> env, String name) {
        String value = env.get(name);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
    }
}
