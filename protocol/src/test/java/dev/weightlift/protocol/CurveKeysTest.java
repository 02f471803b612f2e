package dev.weightlift.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void badKeyFilesAreNamed() throws IOException {
        IOException missing = assertThrows(IOException.class, () -> CurveKeys.loadAgent(dir));
        assertTrue(missing.getMessage().contains("server.public is missing"), missing.getMessage());
        Files.writeString(dir.resolve(CurveKeys.SERVER_PUBLIC), "too-short\n");
        IOException shortKey = assertThrows(IOException.class, () -> CurveKeys.read(dir, CurveKeys.SERVER_PUBLIC));
        assertTrue(shortKey.getMessage().contains("server.public must hold 40 Z85 characters, found 9"),
                shortKey.getMessage());
    }
}
