package dev.weightlift.agent.engine.trigger;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weightlift.agent.engine.EngineException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * vLLM with checkpoint-engine's worker extension
 * ({@code --worker-extension-cls checkpoint_engine.worker.VllmColocateWorkerExtension}, server started with
 * {@code VLLM_SERVER_DEV_MODE=1}): {@code POST /collective_rpc} with
 * {@code {"method": "update_weights_from_ipc", "args": [{uuid: address}], "timeout": seconds}}, exactly the
 * body of checkpoint-engine's {@code request_inference_to_update}. Any non-2xx answer is a failure.
 * Readiness is {@code GET /health}.
 */
public final class VllmCheckpointEngineTrigger implements EngineTrigger {

    public static final String METHOD = "update_weights_from_ipc";
    public static final String DEFAULT_PATH = "/collective_rpc";
    public static final String READINESS_PATH = "/health";

    private static final Logger LOG = LoggerFactory.getLogger(VllmCheckpointEngineTrigger.class);

    private final EngineHttp http;
    private final String path;

    public VllmCheckpointEngineTrigger(EngineHttp http, String path) {
        this.http = http;
        this.path = path;
    }

    @Override
    public void awaitReady(Duration timeout) throws EngineException {
        http.awaitOk(READINESS_PATH, timeout);
    }

    @Override
    public CompletableFuture<String> start(TriggerRequest request) {
        ObjectNode body = EngineHttp.JSON.createObjectNode().put("method", METHOD);
        body.putArray("args").add(EngineHttp.JSON.valueToTree(
                request.requireWorkerAddresses("vLLM's checkpoint-engine trigger")));
        body.put("timeout", request.timeout().toMillis() / 1000.0);
        LOG.info("triggering engine={} update={} workers={}", http.name(), request.update(), request.workerAddresses());
        String what = METHOD + " for update " + request.update();
        return http.post(path, body, request.timeout(), what).thenApply(response -> {
            if (response.statusCode() / 100 != 2) {
                throw http.refused(response, what);
            }
            return response.body();
        });
    }
}
