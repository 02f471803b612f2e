package dev.weightlift.agent.engine.nativeprotocol;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Where and how the agent listens for engine workers. {@code endpoint} is {@code unix:///path} or
 * {@code tcp://host:port} (port 0 picks a free one); {@code socketMode} is octal ({@code 0660}) and
 * {@code socketGroup} a group name or null, both applied to a Unix socket file only.
 */
public record ChannelServerConfig(String endpoint, String socketMode, String socketGroup, int maxFrameBytes,
        Duration helloTimeout) {

    public static final String SOCKET_FILE = "weightlift.sock";

    public ChannelServerConfig {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(socketMode, "socketMode");
        Objects.requireNonNull(helloTimeout, "helloTimeout");
        permissions(socketMode);
        if (!endpoint.startsWith("unix://") && !endpoint.startsWith("tcp://")) {
            throw new IllegalArgumentException("engine endpoint must start with unix:// or tcp://, got '" + endpoint + "'");
        }
    }

    public static ChannelServerConfig unixSocket(Path socketDir) {
        return new ChannelServerConfig("unix://" + socketDir.toAbsolutePath().resolve(SOCKET_FILE), "0660", null,
                FrameCodec.DEFAULT_MAX_JSON_BYTES, Duration.ofSeconds(10));
    }

    /** From the agent's environment: {@code WEIGHTLIFT_SOCKET_DIR}, {@code WEIGHTLIFT_SOCKET_MODE}, {@code WEIGHTLIFT_SOCKET_GROUP}. */
    public static ChannelServerConfig fromEnv(Map<String, String> env) {
        String dir = env.getOrDefault("WEIGHTLIFT_SOCKET_DIR", "/run/weightlift");
        String group = env.get("WEIGHTLIFT_SOCKET_GROUP");
        return unixSocket(Path.of(dir)).withSocketMode(env.getOrDefault("WEIGHTLIFT_SOCKET_MODE", "0660"))
                .withSocketGroup(group == null || group.isBlank() ? null : group);
    }

    public ChannelServerConfig withSocketMode(String mode) {
        return new ChannelServerConfig(endpoint, mode, socketGroup, maxFrameBytes, helloTimeout);
    }

    public ChannelServerConfig withSocketGroup(String group) {
        return new ChannelServerConfig(endpoint, socketMode, group, maxFrameBytes, helloTimeout);
    }

    public ChannelServerConfig withMaxFrameBytes(int bytes) {
        return new ChannelServerConfig(endpoint, socketMode, socketGroup, bytes, helloTimeout);
    }

    public ChannelServerConfig withHelloTimeout(Duration timeout) {
        return new ChannelServerConfig(endpoint, socketMode, socketGroup, maxFrameBytes, timeout);
    }

    /** {@code "0660"} → {@code "rw-rw----"}. */
    static String permissions(String octalMode) {
        int mode;
        try {
            mode = Integer.parseInt(octalMode, 8);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("socket mode must be octal like 0660, got '" + octalMode + "'", e);
        }
        if (mode < 0 || mode > 0777) {
            throw new IllegalArgumentException("socket mode must be between 0000 and 0777, got '" + octalMode + "'");
        }
        String letters = "rwxrwxrwx";
        StringBuilder out = new StringBuilder();
        for (int bit = 0; bit < 9; bit++) {
            out.append((mode & (0400 >> bit)) != 0 ? letters.charAt(bit) : '-');
        }
        return out.toString();
    }
}
