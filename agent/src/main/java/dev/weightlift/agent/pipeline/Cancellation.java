package dev.weightlift.agent.pipeline;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Shared by the GPUs of one update: the first failure cancels the others at their next bucket; and the
 * engine's own call (its trigger), whose end tells an aborting GPU that the workers have let go of the shared
 * buffer.
 */
public final class Cancellation {

    private final AtomicReference<String> reason = new AtomicReference<>();
    private final CompletableFuture<Void> engineCallEnded = new CompletableFuture<>();

    /** Records the first reason; later ones are ignored. */
    public void cancel(String why) {
        reason.compareAndSet(null, why);
    }

    /** The first reason, or null while not cancelled. */
    public String reason() {
        return reason.get();
    }

    /** The engine's call for this update, where this node triggered it. */
    public void engineCall(CompletableFuture<?> call) {
        call.whenComplete((result, error) -> engineCallEnded.complete(null));
    }

    /**
     * Waits until the engine's call has ended, at most {@code grace} (all of it when this node did not trigger
     * the engine); true when it ended.
     */
    boolean awaitEngineCall(Duration grace) {
        try {
            engineCallEnded.get(grace.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
