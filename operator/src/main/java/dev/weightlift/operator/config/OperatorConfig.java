package dev.weightlift.operator.config;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The operator's settings, from the environment (the runtime contract):
 * {@code POD_NAME}/{@code POD_NAMESPACE} (leader election on Lease {@value #LEASE_NAME} when both are set),
 * {@code WEIGHTLIFT_WATCH_NAMESPACES} (comma list, empty = all), {@code WEIGHTLIFT_HTTP_PORT} (8080),
 * {@code WEIGHTLIFT_HUB_BIND} ({@code tcp://*:7100}), {@code WEIGHTLIFT_CURVE_DIR} ({@code /etc/weightlift/curve}),
 * {@code WEIGHTLIFT_LOG_FORMAT} ({@code text} or {@code json}).
 */
public record OperatorConfig(Optional<String> podName, Optional<String> podNamespace, Set<String> watchNamespaces, int httpPort,
        String hubBind, Path curveDir, LogFormat logFormat) {

    public static final String LEASE_NAME = "weightlift-operator";

    public enum LogFormat {
        text, json
    }

    public static OperatorConfig fromEnvironment(Map<String, String> env) {
        return new OperatorConfig(
                nonBlank(env.get("POD_NAME")),
                nonBlank(env.get("POD_NAMESPACE")),
                Arrays.stream(env.getOrDefault("WEIGHTLIFT_WATCH_NAMESPACES", "").split(","))
                        .map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toUnmodifiableSet()),
                port(env.getOrDefault("WEIGHTLIFT_HTTP_PORT", "8080")),
                nonBlank(env.get("WEIGHTLIFT_HUB_BIND")).orElse("tcp://*:7100"),
                Path.of(nonBlank(env.get("WEIGHTLIFT_CURVE_DIR")).orElse("/etc/weightlift/curve")),
                logFormat(env.getOrDefault("WEIGHTLIFT_LOG_FORMAT", "text")));
    }

    /** Leader election is on when the operator knows its pod (both POD_NAME and POD_NAMESPACE set). */
    public boolean leaderElection() {
        return podName.isPresent() && podNamespace.isPresent();
    }

    private static Optional<String> nonBlank(String value) {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }

    private static int port(String value) {
        try {
            int port = Integer.parseInt(value.trim());
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("WEIGHTLIFT_HTTP_PORT: '" + value + "' is not a port number (0-65535)");
        }
    }

    private static LogFormat logFormat(String value) {
        try {
            return LogFormat.valueOf(value.trim().toLowerCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("WEIGHTLIFT_LOG_FORMAT: '" + value + "' is neither text nor json");
        }
    }
}
