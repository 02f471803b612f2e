package dev.weightlift.agent.engine.trigger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weightlift.agent.engine.EngineException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SGLang's built-in checkpoint-engine receiver: {@code POST /update_weights_from_ipc} with
 * {@code {"zmq_handles": {uuid: address}, "flush_cache": true, "weight_version": ...}}, answered by
 * {@code {"success": bool, "message": str}} (400 on failure). Readiness is {@code GET /ping}, which answers
 * while a server started with {@code --checkpoint-engine-wait-weights-before-ready} still waits for its first
 * weights ({@code /health} does not, then). LMDeploy's {@code /update_weights_from_ipc} takes the same body.
 */
public final class SglangIpcTrigger implements EngineTrigger {

    public static final String DEFAULT_PATH = "/update_weights_from_ipc";
    public static final String READINESS_PATH = "/ping";

    private static final Logger LOG = LoggerFactory.getLogger(SglangIpcTrigger.class);

    private final EngineHttp http;
    private final String path;

    public SglangIpcTrigger(EngineHttp http, String path) {
        this.http = http;
        this.path = path;
    }

    @Override
    public void awaitReady(Duration timeout) throws EngineException {
        http.awaitOk(READINESS_PATH, timeout);
    }

    @Override
    public CompletableFuture<String> start(TriggerRequest request) {
        ObjectNode body = EngineHttp.JSON.createObjectNode();
        body.set("zmq_handles", EngineHttp.JSON.valueToTree(
                request.requireWorkerAddresses("SGLang's trigger")));
        body.put("flush_cache", true);
        body.put("weight_version", request.version());
        LOG.info("triggering engine={} update={} workers={}", http.name(), request.update(), request.workerAddresses());
        String what = "update_weights_from_ipc for update " + request.update();
        return http.post(path, body, request.timeout(), what).thenApply(response -> {
            JsonNode json = EngineHttp.json(response.body());
            boolean success = json != null && json.path("success").asBoolean(false);
            if (response.statusCode() != 200 || !success) {
                throw http.refused(response, what);
            }
            return json.path("message").asText("");
        });
    }
}
