package dev.weightlift.operator.flow;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;

/** Stage times of Broadcast updates, for dashboards: {@code weightlift_broadcast_stage_seconds{stage=...}}. */
final class FlowMetrics {

    private final MeterRegistry registry;

    FlowMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void stage(String stage, Duration time) {
        Timer.builder("weightlift.broadcast.stage").description("wall time of a stage of a Broadcast update")
                .tag("stage", stage).register(registry).record(time);
    }
}
