package dev.weightlift.operator.ops;

import dev.weightlift.api.v1alpha1.Phase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Weightlift's own meters, beside JOSDK's: {@code weightlift_updates_total{phase}} (updates entering each
 * phase), {@code weightlift_update_duration_seconds{outcome}} (start to end of finished updates),
 * {@code weightlift_bytes_moved_total}, and per update {@code weightlift_update_progress_percent{namespace,name}},
 * removed when the update goes; {@code weightlift_scaleup_duration_seconds{outcome,source}} (scale-ups of pods
 * that joined later, by outcome and by where the bytes came from: {@code p2p} or {@code checkpoint}).
 */
public final class UpdateMetrics {

    private final MeterRegistry registry;
    private final Counter bytesMoved;
    private final Map<String, Gauge> progressGauges = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> progressValues = new ConcurrentHashMap<>();

    public UpdateMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.bytesMoved = Counter.builder("weightlift.bytes.moved").description("Checkpoint bytes acknowledged by every target").register(registry);
    }

    public void phaseEntered(Phase phase) {
        Counter.builder("weightlift.updates").description("Updates that entered each phase").tag("phase", phase.name())
                .register(registry).increment();
    }

    public void finished(Phase outcome, Duration duration) {
        Timer.builder("weightlift.update.duration").description("Wall time of finished updates, from start to end")
                .tag("outcome", outcome.name()).register(registry).record(duration);
    }

    public void scaleUpFinished(boolean succeeded, boolean fromSource, Duration duration) {
        Timer.builder("weightlift.scaleup.duration").description("Wall time of finished scale-ups of pods that joined later")
                .tag("outcome", succeeded ? "Succeeded" : "Failed").tag("source", fromSource ? "checkpoint" : "p2p")
                .register(registry).record(duration);
    }

    public void bytesMoved(long bytes) {
        if (bytes > 0) {
            bytesMoved.increment(bytes);
        }
    }

    public void progress(String namespace, String name, int percent) {
        String key = namespace + "/" + name;
        progressValues.computeIfAbsent(key, k -> {
            AtomicInteger value = new AtomicInteger();
            progressGauges.put(k, Gauge.builder("weightlift.update.progress.percent", value, AtomicInteger::get)
                    .description("Progress of an update").tag("namespace", namespace).tag("name", name).register(registry));
            return value;
        }).set(percent);
    }

    /** Removes the meters of one update (it was deleted). */
    public void forget(String namespace, String name) {
        String key = namespace + "/" + name;
        progressValues.remove(key);
        Gauge gauge = progressGauges.remove(key);
        if (gauge != null) {
            registry.remove(gauge);
        }
    }
}
