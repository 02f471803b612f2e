package dev.weightlift.operator.config;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

class LogSetupTest {

    @AfterEach
    void restoreDefaultConfiguration() throws Exception {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        new ContextInitializer(context).autoConfig();
    }

    @Test
    void jsonLinesCarryTheUpdateName() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LogSetup.apply(OperatorConfig.LogFormat.json, out);
        try (MDC.MDCCloseable name = MDC.putCloseable("resource.name", "step-1200")) {
            LoggerFactory.getLogger("test").info("status written phase={}", "Succeeded");
        }
        String line = out.toString(StandardCharsets.UTF_8).strip();
        assertTrue(line.startsWith("{") && line.endsWith("}"), line);
        assertTrue(line.contains("\"resource.name\":\"step-1200\""), line);
        assertTrue(line.contains("status written phase=Succeeded"), line);
    }

    @Test
    void textLinesCarryTheUpdateName() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LogSetup.apply(OperatorConfig.LogFormat.text, out);
        try (MDC.MDCCloseable name = MDC.putCloseable("resource.name", "step-1200");
                MDC.MDCCloseable namespace = MDC.putCloseable("resource.namespace", "rl")) {
            LoggerFactory.getLogger("test").info("status written");
        }
        String line = out.toString(StandardCharsets.UTF_8);
        assertTrue(line.contains("rl/step-1200 - status written"), line);
    }
}
