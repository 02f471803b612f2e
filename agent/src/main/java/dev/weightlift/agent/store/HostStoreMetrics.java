package dev.weightlift.agent.store;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/** Gauges of a {@link HostStore}: bytes held, bytes pooled for reuse, the budget, and versions held. */
public final class HostStoreMetrics implements MeterBinder {

    private final HostStore store;

    public HostStoreMetrics(HostStore store) {
        this.store = store;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("weightlift.host.store.used", store, HostStore::bytesInUse).baseUnit("bytes")
                .description("host memory held by checkpoint versions and loads in progress").register(registry);
        Gauge.builder("weightlift.host.store.pooled", store, HostStore::bytesPooled).baseUnit("bytes")
                .description("host memory of dropped versions kept for the next load (counts against the budget)")
                .register(registry);
        Gauge.builder("weightlift.host.store.budget", store, HostStore::budgetBytes).baseUnit("bytes")
                .description("host memory the store may hold").register(registry);
        Gauge.builder("weightlift.host.store.versions", store, s -> s.all().size())
                .description("checkpoint versions held").register(registry);
    }
}
