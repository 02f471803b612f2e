package dev.weightlift.agent.engine.trigger;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * vLLM with Weightlift's worker extension (started with {@code VLLM_SERVER_DEV_MODE=1} and
 * {@code --worker-extension-cls weightlift_engine.vllm_worker.WeightliftWorkerExtension}): readiness by
 * {@code GET /health}, update by {@code POST /collective_rpc} with method {@value #METHOD} and the request
 * as one JSON string argument (agent/docs/engine-protocol.md §7).
 */
public final class VllmNativeTrigger implements EngineTrigger {

    public static final String METHOD = "update_weights_from_agent";
    public static final String DEFAULT_PATH = "/collective_rpc";
    public static final String READINESS_PATH = "/health";

    private static final Logger LOG = LoggerFactory.getLogger(VllmNativeTrigger.class);

    private final EngineHttp http;
    private final String path;

    public VllmNativeTrigger(EngineHttp http, String path) {
        this.http = http;
        this.path = path;
    }

    public static VllmNativeTrigger at(String host, int port) {
        return new VllmNativeTrigger(new EngineHttp("vLLM", URI.create("http://" + host + ":" + port + "/"),
                EngineHttp.DEFAULT_POLL_INTERVAL, EngineHttp.DEFAULT_RESPONSE_MARGIN), DEFAULT_PATH);
    }

    @Override
    public void awaitReady(Duration timeout) throws dev.weightlift.agent.engine.EngineException {
        http.awaitOk(READINESS_PATH, timeout);
    }

    @Override
    public CompletableFuture<String> start(TriggerRequest request) {
        ObjectNode body = body(request);
        LOG.info("triggering engine={} update={} endpoint={}", http.name(), request.update(), request.endpoint());
        String what = METHOD + " for update " + request.update();
        return http.post(path, body, request.timeout(), what).thenApply(response -> {
            if (response.statusCode() != 200) {
                throw http.refused(response, what);
            }
            return response.body();
        });
    }

    ObjectNode body(TriggerRequest request) {
        ObjectNode argument = EngineHttp.JSON.createObjectNode()
                .put("endpoint", request.requireEndpoint("vLLM's native trigger"))
                .put("update", request.update())
                .put("timeout_s", request.timeout().toMillis() / 1000.0);
        ObjectNode body = EngineHttp.JSON.createObjectNode().put("method", METHOD);
        body.putArray("args").add(argument.toString());
        body.put("timeout", request.timeout().plus(http.responseMargin().dividedBy(2)).toMillis() / 1000.0);
        return body;
    }
}
