package dev.weightlift.operator.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.operator.flow.BroadcastExecutor;
import java.nio.file.Path;
import java.time.Duration;
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

    @Test
    void deadlinesComeFromTheEnvironmentOrTheDefaults() {
        assertEquals(BroadcastExecutor.Deadlines.defaults(), OperatorConfig.fromEnvironment(Map.of()).deadlines());
        BroadcastExecutor.Deadlines set = OperatorConfig.fromEnvironment(Map.of("WEIGHTLIFT_DEADLINE_REQUEST", "45s",
                "WEIGHTLIFT_DEADLINE_ENGINE_CONNECT", "2m", "WEIGHTLIFT_DEADLINE_STEP", "1h", "WEIGHTLIFT_DEADLINE_ABORT", "750ms")).deadlines();
        assertEquals(Duration.ofSeconds(45), set.request());
        assertEquals(Duration.ofMinutes(2), set.engineConnect());
        assertEquals(Duration.ofHours(1), set.step());
        assertEquals(Duration.ofMillis(750), set.abort());
        assertEquals(BroadcastExecutor.Deadlines.defaults().progressInterval(), set.progressInterval());
    }

    @Test
    void aBadDeadlineNamesItsVariable() {
        for (String bad : new String[] {"30", "0s", "-5s", "2 m", "1d", "1.5s", "99999999999s"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> OperatorConfig.fromEnvironment(Map.of("WEIGHTLIFT_DEADLINE_STEP", bad)), bad);
            assertTrue(e.getMessage().startsWith("WEIGHTLIFT_DEADLINE_STEP: '" + bad + "'"), e.getMessage());
        }
    }
}
