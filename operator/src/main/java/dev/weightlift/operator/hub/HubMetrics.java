package dev.weightlift.operator.hub;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/** What an operator graphs about the hub: agents connected, messages by type, request latency, refusals. */
final class HubMetrics {

    private final MeterRegistry registry;
    private final List<Gauge> gauges;

    HubMetrics(MeterRegistry registry, Supplier<Number> agentsConnected, Supplier<Number> requestsPending) {
        this.registry = registry;
        this.gauges = List.of(
                Gauge.builder("weightlift.hub.agents.connected", agentsConnected).description("agents registered now")
                        .register(registry),
                Gauge.builder("weightlift.hub.requests.pending", requestsPending)
                        .description("requests awaiting an answer").register(registry));
    }

    /** Removes the gauges, which read this hub's state (a later hub in the same process registers its own). */
    void close() {
        gauges.forEach(registry::remove);
    }

    void messageIn(String type) {
        Counter.builder("weightlift.hub.messages").tag("direction", "in").tag("type", type).register(registry)
                .increment();
    }

    void messageOut(String type) {
        Counter.builder("weightlift.hub.messages").tag("direction", "out").tag("type", type).register(registry)
                .increment();
    }

    void rejected(String reason) {
        Counter.builder("weightlift.hub.rejected").description("frames and connections the hub refused")
                .tag("reason", reason).register(registry).increment();
    }

    void requestDone(String type, String outcome, Duration latency) {
        Timer.builder("weightlift.hub.request.duration").tag("type", type).tag("outcome", outcome)
                .register(registry).record(latency);
    }

    void agentGone(String reason) {
        Counter.builder("weightlift.hub.agents.gone").tag("reason", reason).register(registry).increment();
    }
}
