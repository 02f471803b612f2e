package dev.weightlift.e2e;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/** Polls a condition until it holds or the deadline passes (then throws naming what was awaited). */
final class Waits {

    private static final long POLL_MILLIS = 50;

    private Waits() {
    }

    static void until(String what, Duration deadline, BooleanSupplier condition) throws TimeoutException, InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new TimeoutException("not within " + deadline.toSeconds() + " s: " + what);
            }
            Thread.sleep(POLL_MILLIS);
        }
    }
}
