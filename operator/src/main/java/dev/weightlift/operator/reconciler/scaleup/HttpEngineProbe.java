package dev.weightlift.operator.reconciler.scaleup;

import dev.weightlift.api.v1alpha1.EngineSpec;
import dev.weightlift.api.v1alpha1.EngineType;
import dev.weightlift.operator.reconciler.weightupdate.Target;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;

/**
 * Probes the engine's health endpoint on {@code engine.port} of the pod IP: vLLM {@code GET /health}; SGLang
 * {@code GET /health}, then {@code GET /ping} when that is not found. Up on a 2xx answer. Every request is
 * bounded by {@code timeout} (connect and answer).
 */
public final class HttpEngineProbe implements EngineProbe {

    private static final List<String> VLLM_PATHS = List.of("/health");
    private static final List<String> SGLANG_PATHS = List.of("/health", "/ping");

    private final HttpClient client;
    private final Duration timeout;

    public HttpEngineProbe(Duration timeout) {
        this.timeout = timeout;
        this.client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @Override
    public Health probe(Target target, EngineSpec engine) {
        if (target.podIp() == null || target.podIp().isEmpty()) {
            return Health.down("the pod has no IP yet");
        }
        int port = engine.getPort() == null ? 8000 : engine.getPort();
        List<String> paths = engine.getType() == EngineType.SGLANG ? SGLANG_PATHS : VLLM_PATHS;
        String host = target.podIp().contains(":") ? "[" + target.podIp() + "]" : target.podIp();
        Health health = null;
        for (String path : paths) {
            String url = "http://" + host + ":" + port + path;
            health = get(url);
            if (health.up() || !health.detail().endsWith("HTTP 404")) {
                return health;
            }
        }
        return health;
    }

    private Health get(String url) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build();
        try {
            int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            return status / 100 == 2 ? Health.up("GET " + url + " answered HTTP " + status)
                    : Health.down("GET " + url + " answered HTTP " + status);
        } catch (HttpTimeoutException e) {
            return Health.down("GET " + url + " did not answer within " + timeout.toMillis() + " ms");
        } catch (IOException e) {
            return Health.down("GET " + url + " failed: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Health.down("GET " + url + " interrupted");
        }
    }
}
