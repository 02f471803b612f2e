package dev.weightlift.agent.engine.checkpointengine;

import dev.weightlift.agent.engine.EngineException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * vLLM with checkpoint-engine's worker extension
 * ({@code --worker-extension-cls checkpoint_engine.worker.VllmColocateWorkerExtension}, server started with
 * {@code VLLM_SERVER_DEV_MODE=1}): {@code POST /collective_rpc} with
 * {@code {"method": "update_weights_from_ipc", "args": [{uuid: address}], "timeout": seconds}}, exactly the
 * body of checkpoint-engine's {@code request_inference_to_update}. Any non-2xx answer is a failure.
 * Readiness is {@code GET /health}.
 */
public final class VllmCollectiveRpcTrigger implements CheckpointEngineTrigger {

    public static final String DEFAULT_PATH = "/collective_rpc";
    public static final String DEFAULT_READINESS_PATH = "/health";

    private final EngineHttp http;
    private final String path;
    private final String readinessPath;

    public VllmCollectiveRpcTrigger(HttpClient client, URI engine, String path, String readinessPath) {
        this.http = new EngineHttp(client, engine);
        this.path = path;
        this.readinessPath = readinessPath;
    }

    public VllmCollectiveRpcTrigger(HttpClient client, URI engine) {
        this(client, engine, DEFAULT_PATH, DEFAULT_READINESS_PATH);
    }

    @Override
    public void awaitReady(Duration timeout) throws EngineException {
        http.awaitOk(readinessPath, timeout);
    }

    @Override
    public CompletableFuture<Void> start(Map<String, String> zmqHandles, String weightVersion, Duration timeout) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("method", "update_weights_from_ipc");
        body.put("args", List.of(zmqHandles));
        body.put("timeout", timeout.toMillis() / 1000.0);
        return http.post(path, body, timeout).thenApply(this::check);
    }

    private Void check(HttpResponse<String> response) {
        if (response.statusCode() / 100 == 2) {
            return null;
        }
        throw new CompletionException(new EngineException("vLLM at " + http.base() + " failed the update (HTTP "
                + response.statusCode() + "): " + response.body()));
    }
}
