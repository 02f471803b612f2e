package dev.weightlift.agent.pipeline;

import java.util.concurrent.atomic.AtomicReference;

/** Shared by the GPUs of one update: the first failure cancels the others at their next bucket. */
public final class Cancellation {

    private final AtomicReference<String> reason = new AtomicReference<>();

    /** Records the first reason; later ones are ignored. */
    public void cancel(String why) {
        reason.compareAndSet(null, why);
    }

    /** The first reason, or null while not cancelled. */
    public String reason() {
        return reason.get();
    }
}
