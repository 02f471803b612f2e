package dev.weightlift.agent.control;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.function.Supplier;

/** The control client's meters: connected, messages by type, reconnects, handler time. */
final class ClientMetrics {

    private final MeterRegistry registry;
    private final Gauge connected;

    ClientMetrics(MeterRegistry registry, Supplier<Number> connected) {
        this.registry = registry;
        this.connected = Gauge.builder("weightlift.agent.control.connected", connected)
                .description("1 while registered with the hub").register(registry);
    }

    void close() {
        registry.remove(connected);
    }

    void messageIn(String type) {
        Counter.builder("weightlift.agent.control.messages").tag("direction", "in").tag("type", type)
                .register(registry).increment();
    }

    void messageOut(String type) {
        Counter.builder("weightlift.agent.control.messages").tag("direction", "out").tag("type", type)
                .register(registry).increment();
    }

    void rejected(String reason) {
        Counter.builder("weightlift.agent.control.rejected").tag("reason", reason).register(registry).increment();
    }

    void reconnect(String reason) {
        Counter.builder("weightlift.agent.control.reconnects").tag("reason", reason).register(registry).increment();
    }

    void handled(String type, boolean ok, Duration duration) {
        Timer.builder("weightlift.agent.control.request.duration").tag("type", type)
                .tag("outcome", ok ? "ok" : "failed").register(registry).record(duration);
    }
}
