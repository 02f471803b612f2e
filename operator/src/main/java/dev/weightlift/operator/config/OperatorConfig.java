package dev.weightlift.operator.config;

import dev.weightlift.operator.flow.BroadcastExecutor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The operator's settings, from the environment (the runtime contract):
 * {@code POD_NAME}/{@code POD_NAMESPACE} (leader election on Lease {@value #LEASE_NAME} when both are set),
 * {@code WEIGHTLIFT_WATCH_NAMESPACES} (comma list, empty = all), {@code WEIGHTLIFT_HTTP_PORT} (8080),
 * {@code WEIGHTLIFT_HUB_BIND} ({@code tcp://*:7100}), {@code WEIGHTLIFT_CURVE_DIR} ({@code /etc/weightlift/curve}),
 * {@code WEIGHTLIFT_LOG_FORMAT} ({@code text} or {@code json}); the deadlines inside an update
 * {@code WEIGHTLIFT_DEADLINE_REQUEST}, {@code WEIGHTLIFT_DEADLINE_ENGINE_CONNECT}, {@code WEIGHTLIFT_DEADLINE_STEP},
 * {@code WEIGHTLIFT_DEADLINE_ABORT} (durations such as {@code 30s}, {@code 2m}, {@code 500ms}; unset: the defaults of
 * {@link BroadcastExecutor.Deadlines#defaults()}).
 */
public record OperatorConfig(Optional<String> podName, Optional<String> podNamespace, Set<String> watchNamespaces, int httpPort,
        String hubBind, Path curveDir, LogFormat logFormat, BroadcastExecutor.Deadlines deadlines) {

    public static final String LEASE_NAME = "weightlift-operator";
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

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
                logFormat(env.getOrDefault("WEIGHTLIFT_LOG_FORMAT", "text")),
                deadlines(env));
    }

    private static BroadcastExecutor.Deadlines deadlines(Map<String, String> env) {
        BroadcastExecutor.Deadlines defaults = BroadcastExecutor.Deadlines.defaults();
        return new BroadcastExecutor.Deadlines(
                duration(env, "WEIGHTLIFT_DEADLINE_REQUEST", defaults.request()),
                duration(env, "WEIGHTLIFT_DEADLINE_ENGINE_CONNECT", defaults.engineConnect()),
                duration(env, "WEIGHTLIFT_DEADLINE_STEP", defaults.step()),
                duration(env, "WEIGHTLIFT_DEADLINE_ABORT", defaults.abort()),
                defaults.progressInterval());
    }

    /** A positive duration: a whole number and a unit, {@code ms}, {@code s}, {@code m} or {@code h}. */
    static Duration duration(Map<String, String> env, String variable, Duration unset) {
        Optional<String> value = nonBlank(env.get(variable));
        if (value.isEmpty()) {
            return unset;
        }
        Matcher m = DURATION.matcher(value.get());
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new IllegalArgumentException(variable + ": '" + value.get() + "' is not a positive duration (e.g. 500ms, 30s, 2m, 1h)");
        }
        long amount = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofHours(amount);
        };
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
