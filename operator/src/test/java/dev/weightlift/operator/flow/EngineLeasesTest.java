package dev.weightlift.operator.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class EngineLeasesTest {

    /** A holder that stops only when told to by the test, after being cancelled. */
    static final class Holder implements EngineLeases.Holder {
        final String name;
        final CompletableFuture<String> cancelled = new CompletableFuture<>();
        final CompletableFuture<Void> stopped = new CompletableFuture<>();

        Holder(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void cancel(String reason) {
            cancelled.complete(reason);
        }

        @Override
        public CompletableFuture<Void> stopped() {
            return stopped;
        }
    }

    @Test
    void aNewerHolderCancelsTheOlderAndWaitsUntilItHasStopped() throws Exception {
        EngineLeases leases = new EngineLeases();
        Holder older = new Holder("step-1");
        Holder newer = new Holder("step-2");
        leases.acquire(older, List.of("ns/a", "ns/b"), Duration.ofSeconds(5));

        CompletableFuture<Void> acquired = CompletableFuture.runAsync(() -> {
            try {
                leases.acquire(newer, List.of("ns/b", "ns/c"), Duration.ofSeconds(10));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals("superseded by step-2", older.cancelled.get(5, TimeUnit.SECONDS));
        assertFalse(acquired.isDone(), "the newer holder must wait for the older one to stop");
        older.stopped.complete(null);
        acquired.get(5, TimeUnit.SECONDS);
    }

    @Test
    void disjointHoldersDoNotWaitForEachOther() throws Exception {
        EngineLeases leases = new EngineLeases();
        Holder first = new Holder("a");
        Holder second = new Holder("b");
        leases.acquire(first, List.of("ns/a"), Duration.ofSeconds(1));
        leases.acquire(second, List.of("ns/b"), Duration.ofSeconds(1));
        assertFalse(first.cancelled.isDone());
    }

    @Test
    void anOlderHolderThatNeverStopsFailsTheNewerNamingIt() throws Exception {
        EngineLeases leases = new EngineLeases();
        Holder stuck = new Holder("step-1");
        leases.acquire(stuck, List.of("ns/a"), Duration.ofSeconds(1));
        TimeoutException e = assertThrows(TimeoutException.class,
                () -> leases.acquire(new Holder("step-2"), List.of("ns/a"), Duration.ofMillis(200)));
        assertTrue(e.getMessage().contains("step-1"), e.getMessage());
    }
}
