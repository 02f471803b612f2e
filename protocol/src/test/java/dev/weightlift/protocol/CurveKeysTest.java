package dev.weightlift.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.neilalexander.jnacl.crypto.curve25519;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.ZMQ;

class CurveKeysTest {

    @TempDir
    Path dir;

    @Test
    void generatedKeysLoadOnBothSides() throws IOException {
        CurveKeys.generate(dir);
        CurveKeys.HubKeys hub = CurveKeys.loadHub(dir);
        CurveKeys.AgentKeys agent = CurveKeys.loadAgent(dir);
        assertArrayEquals(hub.serverPublic(), agent.serverPublic());
        assertArrayEquals(hub.agentPublic(), agent.agentPublic());
        assertEquals(32, agent.agentSecret().length);
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(dir.resolve(CurveKeys.AGENT_SECRET)));
    }

    @Test
    void inMemoryKeysAreTwoKeypairsOfZ85TextByName() {
        Map<String, String> keys = CurveKeys.generateZ85();

        assertEquals(CurveKeys.NAMES, List.copyOf(keys.keySet()));
        for (String name : CurveKeys.NAMES) {
            assertEquals(32, ZMQ.Curve.z85Decode(keys.get(name)).length, name);
        }
        assertEquals(keys.get(CurveKeys.SERVER_PUBLIC), publicKeyOf(keys.get(CurveKeys.SERVER_SECRET)));
        assertEquals(keys.get(CurveKeys.AGENT_PUBLIC), publicKeyOf(keys.get(CurveKeys.AGENT_SECRET)));
        assertNotEquals(keys.get(CurveKeys.SERVER_PUBLIC), keys.get(CurveKeys.AGENT_PUBLIC));
    }

    @Test
    void badKeyFilesAreNamed() throws IOException {
        IOException missing = assertThrows(IOException.class, () -> CurveKeys.loadAgent(dir));
        assertTrue(missing.getMessage().contains("server.public is missing"), missing.getMessage());
        Files.writeString(dir.resolve(CurveKeys.SERVER_PUBLIC), "too-short\n");
        IOException shortKey = assertThrows(IOException.class, () -> CurveKeys.read(dir, CurveKeys.SERVER_PUBLIC));
        assertTrue(shortKey.getMessage().contains("server.public must hold 40 Z85 characters, found 9"),
                shortKey.getMessage());
    }

    /** The Curve25519 public key of a secret key (the scalar multiple of the base point), in Z85. */
    private static String publicKeyOf(String secretZ85) {
        byte[] publicKey = new byte[ZMQ.Curve.KEY_SIZE];
        curve25519.crypto_scalarmult_base(publicKey, ZMQ.Curve.z85Decode(secretZ85));
        return ZMQ.Curve.z85Encode(publicKey);
    }
}
