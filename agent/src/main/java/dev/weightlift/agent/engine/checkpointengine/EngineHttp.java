package dev.weightlift.agent.engine.checkpointengine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weightlift.agent.engine.EngineException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** JSON over HTTP to one engine's API server: readiness polling and the update POST. */
final class EngineHttp {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration POLL_INTERVAL = Duration.ofMillis(200);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);

    private final HttpClient client;
    private final URI base;

    EngineHttp(HttpClient client, URI base) {
        this.client = client;
        this.base = base;
    }

    URI base() {
        return base;
    }

    /** Polls {@code GET path} until it answers 200. */
    void awaitOk(String path, Duration timeout) throws EngineException {
        URI uri = base.resolve(path);
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (true) {
            try {
                HttpResponse<Void> response = client.send(
                        HttpRequest.newBuilder(uri).timeout(PROBE_TIMEOUT).GET().build(),
                        HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    return;
                }
                last = "status " + response.statusCode();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EngineException("interrupted while waiting for " + uri);
            }
            if (System.nanoTime() + POLL_INTERVAL.toNanos() > deadline) {
                throw new EngineException("engine at " + uri + " not ready within " + timeout.toMillis()
                        + " ms (last: " + last + ")");
            }
            try {
                Thread.sleep(POLL_INTERVAL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EngineException("interrupted while waiting for " + uri);
            }
        }
    }

    /** {@code POST path} with a JSON body; completes with the answer, or fails with an {@link EngineException}. */
    CompletableFuture<HttpResponse<String>> post(String path, Object body, Duration timeout) {
        URI uri = base.resolve(path);
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            return CompletableFuture.failedFuture(e);
        }
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(json))
                .build();
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                .exceptionallyCompose(e -> CompletableFuture.failedFuture(new CompletionException(
                        new EngineException("POST " + uri + " failed: " + unwrap(e), unwrap(e)))));
    }

    /** The body as JSON, or {@code null} when it is not JSON. */
    static JsonNode json(String body) {
        try {
            return JSON.readTree(body);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }
}
