package dev.weightlift.agent.engine.checkpointengine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weightlift.agent.engine.EngineException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * SGLang's built-in checkpoint-engine receiver: {@code POST /update_weights_from_ipc} with
 * {@code {"zmq_handles": {uuid: address}, "flush_cache": true, "weight_version": ...}}, answered by
 * {@code {"success": bool, "message": str}} (400 on failure). Readiness is {@code GET /ping}, which answers
 * while a server started with {@code --checkpoint-engine-wait-weights-before-ready} still waits for its first
 * weights ({@code /health} does not, then). LMDeploy's {@code /update_weights_from_ipc} takes the same body.
 */
public final class SglangIpcTrigger implements CheckpointEngineTrigger {

    public static final String DEFAULT_PATH = "/update_weights_from_ipc";
    public static final String DEFAULT_READINESS_PATH = "/ping";

    private final EngineHttp http;
    private final String path;
    private final String readinessPath;

    public SglangIpcTrigger(HttpClient client, URI engine, String path, String readinessPath) {
        this.http = new EngineHttp(client, engine);
        this.path = path;
        this.readinessPath = readinessPath;
    }

    public SglangIpcTrigger(HttpClient client, URI engine) {
        this(client, engine, DEFAULT_PATH, DEFAULT_READINESS_PATH);
    }

    @Override
    public void awaitReady(Duration timeout) throws EngineException {
        http.awaitOk(readinessPath, timeout);
    }

    @Override
    public CompletableFuture<Void> start(Map<String, String> zmqHandles, String weightVersion, Duration timeout) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("zmq_handles", zmqHandles);
        body.put("flush_cache", true);
        body.put("weight_version", weightVersion);
        return http.post(path, body, timeout).thenApply(this::check);
    }

    private Void check(HttpResponse<String> response) {
        JsonNode json = EngineHttp.json(response.body());
        boolean success = json != null && json.path("success").asBoolean(false);
        if (response.statusCode() == 200 && success) {
            return null;
        }
        String message = json != null && json.hasNonNull("message") ? json.get("message").asText() : response.body();
        throw new CompletionException(new EngineException("SGLang at " + http.base() + " failed the update (HTTP "
                + response.statusCode() + "): " + message));
    }
}
