package dev.weightlift.agent.engine.trigger;

import dev.weightlift.agent.engine.EngineException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Makes one inference engine instance start receiving an update over the native protocol: vLLM with
 * Weightlift's worker extension ({@link VllmNativeTrigger}). Engines served by the checkpoint-engine
 * protocol (SGLang's {@code /update_weights_from_ipc}, vLLM with checkpoint-engine's extension) are
 * triggered by {@code dev.weightlift.agent.engine.checkpointengine.CheckpointEngineTrigger}. The agent on the
 * node of the instance's first GPU triggers it.
 */
public interface EngineTrigger {

    /** Polls the engine's readiness endpoint until it answers 200; throws naming the last answer when {@code timeout} passes. */
    void awaitReady(Duration timeout) throws EngineException;

    /**
     * Starts the update in the engine and returns at once. The engine's call returns only when all its
     * workers are done, so the future completes (with the engine's response body) after the update, or
     * exceptionally with an {@link EngineException} naming the engine and its answer; it never outlives
     * {@code request.timeout()} plus a margin.
     */
    CompletableFuture<String> start(TriggerRequest request);
}
