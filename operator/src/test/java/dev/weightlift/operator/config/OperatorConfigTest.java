package dev.weightlift.operator.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OperatorConfigTest {

    @Test
    void defaultsFollowTheRuntimeContract() {
        OperatorConfig config = OperatorConfig.fromEnvironment(Map.of());
        assertEquals(8080, config.httpPort());
        assertEquals("tcp://*:7100", config.hubBind());
        assertEquals(Path.of("/etc/weightlift/curve"), config.curveDir());
        assertEquals(OperatorConfig.LogFormat.text, config.logFormat());
        assertEquals(Set.of(), config.watchNamespaces());
        assertFalse(config.leaderElection());
    }

    @Test
    void environmentOverrides() {
        OperatorConfig config = OperatorConfig.fromEnvironment(Map.of("POD_NAME", "op-0", "POD_NAMESPACE", "weightlift-system",
                "WEIGHTLIFT_WATCH_NAMESPACES", " rl, serving ,", "WEIGHTLIFT_HTTP_PORT", "9090", "WEIGHTLIFT_LOG_FORMAT", "JSON",
                "WEIGHTLIFT_HUB_BIND", "tcp://*:7101", "WEIGHTLIFT_CURVE_DIR", "/keys"));
        assertTrue(config.leaderElection());
        assertEquals(Set.of("rl", "serving"), config.watchNamespaces());
        assertEquals(9090, config.httpPort());
        assertEquals(OperatorConfig.LogFormat.json, config.logFormat());
        assertEquals("tcp://*:7101", config.hubBind());
        assertEquals(Path.of("/keys"), config.curveDir());
    }

    @Test
    void badValuesNameTheVariable() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> OperatorConfig.fromEnvironment(Map.of("WEIGHTLIFT_HTTP_PORT", "http")))
                .getMessage().startsWith("WEIGHTLIFT_HTTP_PORT"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> OperatorConfig.fromEnvironment(Map.of("WEIGHTLIFT_LOG_FORMAT", "xml")))
                .getMessage().startsWith("WEIGHTLIFT_LOG_FORMAT"));
    }
}
