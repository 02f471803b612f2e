package dev.weightlift.agent.engine.trigger;

import dev.weightlift.agent.engine.EngineException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Makes one inference engine instance start receiving an update, over its HTTP API: {@link VllmNativeTrigger}
 * (native protocol), {@link VllmCheckpointEngineTrigger} and {@link SglangIpcTrigger} (checkpoint-engine
 * protocol); {@link EngineTriggers#create} picks one from the CR's {@code engine} fields. The agent on the
 * node of the instance's first GPU triggers it.
 */
public interface EngineTrigger {

    /** Polls the engine's readiness path until it answers 200; throws naming the last answer when {@code timeout} passes. */
    void awaitReady(Duration timeout) throws EngineException;

    /**
     * Starts the update in the engine and returns at once. The engine's call returns only when all its
     * workers are done, so the future completes (with the engine's response body) after the update, or
     * exceptionally with an {@link EngineException} naming the engine and its message; it never outlives
     * {@code request.timeout()} plus the trigger's response margin.
     */
    CompletableFuture<String> start(TriggerRequest request);
}
