package dev.weightlift.agent;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for a condition with a deadline: the tests' one way to wait. */
public final class Await {

    private Await() {
    }

    public static void until(BooleanSupplier condition, Duration deadline, String what) throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("no " + what + " within " + deadline);
            }
            Thread.sleep(5);
        }
    }
}
