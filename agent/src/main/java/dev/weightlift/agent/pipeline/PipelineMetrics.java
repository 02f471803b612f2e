package dev.weightlift.agent.pipeline;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;

/**
 * What an operator graphs about the pipeline: bytes and buckets handed to engine workers, and the time
 * spent per stage ({@code connect}, {@code publish} wait, {@code load} = ack wait, {@code finish}), per GPU.
 */
public final class PipelineMetrics {

    private final MeterRegistry registry;

    public PipelineMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public static PipelineMetrics unregistered() {
        return new PipelineMetrics(new SimpleMeterRegistry());
    }

    void bucketLoaded(String gpu, long bytes) {
        Counter.builder("weightlift.pipeline.bytes").description("bytes loaded by engine workers").baseUnit("bytes")
                .tag("gpu", gpu).register(registry).increment(bytes);
        Counter.builder("weightlift.pipeline.buckets").description("buckets loaded by engine workers")
                .tag("gpu", gpu).register(registry).increment();
    }

    void stage(String gpu, String stage, Duration time) {
        Timer.builder("weightlift.pipeline.stage").description("time the pipeline waited for a stage")
                .tag("gpu", gpu).tag("stage", stage).register(registry).record(time);
    }

    void updateFinished(String gpu, boolean succeeded) {
        Counter.builder("weightlift.pipeline.updates").description("updates of one GPU's engine worker")
                .tag("gpu", gpu).tag("result", succeeded ? "succeeded" : "failed").register(registry).increment();
    }
}
