package dev.weightlift.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class AgentEnvironmentTest {

    private static Map<String, String> minimal() {
        Map<String, String> env = new HashMap<>();
        env.put("NODE_NAME", "gpu-node-3");
        env.put("HOST_IP", "10.1.2.3");
        env.put("WEIGHTLIFT_HUB_ENDPOINT", "tcp://weightlift-hub.weightlift-system.svc:7100");
        env.put("WEIGHTLIFT_BACKEND", "cuda");
        return env;
    }

    @Test
    void defaultsFollowTheRuntimeContract() {
        AgentEnvironment env = AgentEnvironment.from(minimal());
        assertEquals(new AgentEnvironment("gpu-node-3", "10.1.2.3", "tcp://weightlift-hub.weightlift-system.svc:7100",
                Path.of("/etc/weightlift/curve"), "cuda", Path.of("/run/weightlift"), 0660, Optional.empty(),
                OptionalLong.empty(), 9400, 7200), env);
    }

    @Test
    void readsEveryVariable() {
        Map<String, String> vars = minimal();
        vars.put("WEIGHTLIFT_CURVE_DIR", "/keys");
        vars.put("WEIGHTLIFT_BACKEND", "HOST");
        vars.put("WEIGHTLIFT_SOCKET_DIR", "/tmp/wl");
        vars.put("WEIGHTLIFT_SOCKET_MODE", "0600");
        vars.put("WEIGHTLIFT_SOCKET_GROUP", "inference");
        vars.put("WEIGHTLIFT_HOST_MEMORY_LIMIT", "64Gi");
        vars.put("WEIGHTLIFT_HTTP_PORT", "9500");
        vars.put("WEIGHTLIFT_P2P_PORT", "7300");
        AgentEnvironment env = AgentEnvironment.from(vars);
        assertEquals("host", env.backend());
        assertEquals(Path.of("/keys"), env.curveDir());
        assertEquals(0600, env.socketMode());
        assertEquals(Optional.of("inference"), env.socketGroup());
        assertEquals(OptionalLong.of(64L << 30), env.hostMemoryLimit());
        assertEquals(9500, env.httpPort());
        assertEquals(7300, env.p2pPort());
    }

    @Test
    void byteCountsTakeBinaryAndDecimalSuffixes() {
        assertEquals(123, AgentEnvironment.bytes("123"));
        assertEquals(3L << 20, AgentEnvironment.bytes("3Mi"));
        assertEquals(2L << 40, AgentEnvironment.bytes("2Ti"));
        assertEquals(5_000_000_000L, AgentEnvironment.bytes("5G"));
    }

    @Test
    void badValuesAreNamed() {
        assertError(Map.of(), "NODE_NAME is required");
        assertError(with("WEIGHTLIFT_BACKEND", "rocm"), "WEIGHTLIFT_BACKEND='rocm' must be 'cuda' or 'host'");
        assertError(with("WEIGHTLIFT_HOST_MEMORY_LIMIT", "lots"), "WEIGHTLIFT_HOST_MEMORY_LIMIT='lots'");
        assertError(with("WEIGHTLIFT_SOCKET_MODE", "0999"), "WEIGHTLIFT_SOCKET_MODE='0999'");
        assertError(with("WEIGHTLIFT_P2P_PORT", "70000"), "WEIGHTLIFT_P2P_PORT='70000' is not a TCP port");
    }

    private static Map<String, String> with(String name, String value) {
        Map<String, String> env = minimal();
        env.put(name, value);
        return env;
    }

    private static void assertError(Map<String, String> env, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AgentEnvironment.from(env));
        assertTrue(e.getMessage().contains(expected), () -> e.getMessage() + " should contain " + expected);
    }
}
