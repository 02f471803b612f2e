package dev.weightlift.protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.zeromq.ZMQ;

/**
 * The CURVE keys of the control plane, as Z85 text files in one directory (the runtime contract): the hub's
 * keypair {@code server.public}/{@code server.secret} and the one keypair all agents share,
 * {@code agent.public}/{@code agent.secret}. Keys are kept as 32 raw bytes.
 */
public final class CurveKeys {

    public static final String SERVER_PUBLIC = "server.public";
    public static final String SERVER_SECRET = "server.secret";
    public static final String AGENT_PUBLIC = "agent.public";
    public static final String AGENT_SECRET = "agent.secret";

    /** The four key names: files in the key directory, keys of the Secret mounted there. */
    public static final List<String> NAMES = List.of(SERVER_PUBLIC, SERVER_SECRET, AGENT_PUBLIC, AGENT_SECRET);

    /** What the hub needs: its own keypair and the agents' public key, the only one it admits. */
    public record HubKeys(byte[] serverPublic, byte[] serverSecret, byte[] agentPublic) {
    }

    /** What an agent needs: the hub's public key and the agents' keypair. */
    public record AgentKeys(byte[] serverPublic, byte[] agentPublic, byte[] agentSecret) {
    }

    private CurveKeys() {
    }

    /** A fresh server keypair and agent keypair as Z85 text, by name, in the order of {@link #NAMES}. */
    public static Map<String, String> generateZ85() {
        ZMQ.Curve.KeyPair server = ZMQ.Curve.generateKeyPair();
        ZMQ.Curve.KeyPair agent = ZMQ.Curve.generateKeyPair();
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put(SERVER_PUBLIC, server.publicKey);
        keys.put(SERVER_SECRET, server.secretKey);
        keys.put(AGENT_PUBLIC, agent.publicKey);
        keys.put(AGENT_SECRET, agent.secretKey);
        return Collections.unmodifiableMap(keys);
    }

    /** Writes a fresh server keypair and agent keypair into {@code dir} (secret files readable by the owner only). */
    public static void generate(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (Map.Entry<String, String> key : generateZ85().entrySet()) {
            write(dir.resolve(key.getKey()), key.getValue(), isSecret(key.getKey()));
        }
    }

    public static HubKeys loadHub(Path dir) throws IOException {
        return new HubKeys(read(dir, SERVER_PUBLIC), read(dir, SERVER_SECRET), read(dir, AGENT_PUBLIC));
    }

    public static AgentKeys loadAgent(Path dir) throws IOException {
        return new AgentKeys(read(dir, SERVER_PUBLIC), read(dir, AGENT_PUBLIC), read(dir, AGENT_SECRET));
    }

    /** Reads one Z85 key file: 40 Z85 characters (surrounding whitespace ignored), 32 bytes decoded. */
    public static byte[] read(Path dir, String file) throws IOException {
        Path path = dir.resolve(file);
        if (!Files.isRegularFile(path)) {
            throw new IOException("CURVE key file " + path + " is missing");
        }
        String text = Files.readString(path, StandardCharsets.US_ASCII).strip();
        if (text.length() != ZMQ.Curve.KEY_SIZE_Z85) {
            throw new IOException("CURVE key file " + path + " must hold " + ZMQ.Curve.KEY_SIZE_Z85
                    + " Z85 characters, found " + text.length());
        }
        byte[] key;
        try {
            key = ZMQ.Curve.z85Decode(text);
        } catch (RuntimeException e) {
            throw new IOException("CURVE key file " + path + " is not valid Z85", e);
        }
        if (key == null || key.length != ZMQ.Curve.KEY_SIZE) {
            throw new IOException("CURVE key file " + path + " is not valid Z85");
        }
        return key;
    }

    private static boolean isSecret(String name) {
        return name.equals(SERVER_SECRET) || name.equals(AGENT_SECRET);
    }

    private static void write(Path path, String z85, boolean secret) throws IOException {
        Files.deleteIfExists(path);
        if (secret) {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(Set.of(
                    PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
        }
        Files.writeString(path, z85 + "\n", StandardCharsets.US_ASCII);
    }
}
