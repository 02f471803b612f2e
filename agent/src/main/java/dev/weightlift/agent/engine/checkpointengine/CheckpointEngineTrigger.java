package dev.weightlift.agent.engine.checkpointengine;

import dev.weightlift.agent.engine.EngineException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Starts the receiving side of a checkpoint-engine update in one engine instance over its HTTP API. The
 * engine answers only when all its workers have left the receive loop, so the call runs while the agent
 * drives the {@link CheckpointEngineChannel}s: {@link #start} returns at once and its future completes with
 * the engine's answer.
 */
public interface CheckpointEngineTrigger {

    /** Waits until the engine's HTTP server answers its readiness path with 200. */
    void awaitReady(Duration timeout) throws EngineException;

    /**
     * Asks the engine to update every worker named in {@code zmqHandles} (GPU UUID → ZMQ address of the
     * agent's channel for that GPU). The future fails with an {@link EngineException} carrying the engine's
     * message when it reports failure, answers with an error status, or does not answer within {@code timeout}.
     */
    CompletableFuture<Void> start(Map<String, String> zmqHandles, String weightVersion, Duration timeout);
}
