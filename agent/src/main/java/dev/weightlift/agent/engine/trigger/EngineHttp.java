package dev.weightlift.agent.engine.trigger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weightlift.agent.engine.EngineException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * JSON over HTTP to one engine's API server, for every {@link EngineTrigger}: readiness polling, the update
 * POST with a deadline, and engine answers turned into {@link EngineException}s that name the engine.
 */
public final class EngineHttp {

    /** How much longer than the update's deadline the update call may take (the workers time out first and say why). */
    public static final Duration DEFAULT_RESPONSE_MARGIN = Duration.ofSeconds(30);
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(500);

    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration MAX_PROBE = Duration.ofSeconds(5);
    private static final int MAX_MESSAGE_CHARS = 4000;
    private static final String NO_ANSWER = "no answer yet";

    private final String engine;
    private final URI base;
    private final Duration pollInterval;
    private final Duration responseMargin;
    private final HttpClient probes;

    /** {@code engine} names the engine kind in messages ("vLLM", "SGLang"); {@code base} is {@code http://host:port}. */
    public EngineHttp(String engine, URI base, Duration pollInterval, Duration responseMargin) {
        this.engine = engine;
        this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
        this.pollInterval = pollInterval;
        this.responseMargin = responseMargin;
        this.probes = client();
    }

    /** "vLLM at http://host:port/": how messages name the engine. */
    public String name() {
        return engine + " at " + base;
    }

    public Duration responseMargin() {
        return responseMargin;
    }

    /** Polls {@code GET path} until it answers 200; the failure names the last answer. */
    public void awaitOk(String path, Duration timeout) throws EngineException {
        Instant deadline = Instant.now().plus(timeout);
        URI uri = base.resolve(path);
        String last = NO_ANSWER;
        while (true) {
            Duration remaining = Duration.between(Instant.now(), deadline);
            if (remaining.isNegative() || remaining.isZero()) {
                throw new EngineException(name() + " not ready within " + timeout.toMillis() / 1000.0 + " s (GET " + uri
                        + ": " + last + ")");
            }
            Duration probe = remaining.compareTo(MAX_PROBE) < 0 ? remaining : MAX_PROBE;
            try {
                HttpResponse<Void> response = probes.send(HttpRequest.newBuilder(uri).timeout(probe).GET().build(),
                        HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    return;
                }
                last = "HTTP " + response.statusCode();
            } catch (IOException e) {
                boolean cutShortByOurDeadline = e instanceof HttpTimeoutException && probe.compareTo(MAX_PROBE) < 0;
                if (!cutShortByOurDeadline || last.equals(NO_ANSWER)) {
                    last = describe(e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EngineException("interrupted waiting for " + name() + " to be ready");
            }
            long pause = Math.min(pollInterval.toMillis(), Duration.between(Instant.now(), deadline).toMillis());
            if (pause > 0) {
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new EngineException("interrupted waiting for " + name() + " to be ready");
                }
            }
        }
    }

    /**
     * {@code POST path} with a JSON body, answered within {@code timeout} plus the response margin; completes
     * with the answer whatever its status, or fails with an {@link EngineException} naming the engine,
     * {@code what} was asked and why there was no answer.
     */
    public CompletableFuture<HttpResponse<String>> post(String path, JsonNode body, Duration timeout, String what) {
        URI uri = base.resolve(path);
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(timeout.plus(responseMargin))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build();
        // A client of its own: the call must not go out on a pooled keep-alive connection the engine may be
        // closing at that moment, because a non-idempotent POST that failed that way cannot be retried.
        return client().sendAsync(request, HttpResponse.BodyHandlers.ofString())
                .handle((response, error) -> {
                    if (error == null) {
                        return response;
                    }
                    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                    throw new CompletionException(new EngineException(name() + ": POST " + uri + " failed: " + describe(cause)
                            + " (" + what + ")", cause));
                });
    }

    /** The failure for an answer the trigger does not accept: its status and the engine's own message. */
    public CompletionException refused(HttpResponse<String> response, String what) {
        return new CompletionException(new EngineException(name() + " answered HTTP " + response.statusCode() + " to "
                + what + ": " + errorText(response.body())));
    }

    /** The message in an error body: vLLM's {@code detail} (FastAPI), SGLang's {@code message}, {@code error}, or the text. */
    static String errorText(String body) {
        String text = body == null ? "" : body.strip();
        JsonNode json = json(text);
        if (json != null && json.isObject()) {
            JsonNode message = json.has("error") ? json.get("error") : json.has("detail") ? json.get("detail")
                    : json.get("message");
            if (message != null) {
                text = message.isTextual() ? message.asText() : message.toString();
            }
        }
        if (text.isEmpty()) {
            return "(empty body)";
        }
        return text.length() > MAX_MESSAGE_CHARS ? "…" + text.substring(text.length() - MAX_MESSAGE_CHARS) : text;
    }

    /** The body as JSON, or null when it is not JSON. */
    static JsonNode json(String body) {
        try {
            return body == null || body.isBlank() ? null : JSON.readTree(body);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static HttpClient client() {
        return HttpClient.newBuilder().connectTimeout(MAX_PROBE).version(HttpClient.Version.HTTP_1_1).build();
    }

    private static String describe(Throwable e) {
        if (e instanceof HttpTimeoutException) {
            return "no answer before the deadline (engine slow or hung)";
        }
        if (e instanceof ConnectException) {
            return "connection refused (engine down)";
        }
        if (e instanceof IOException && e.getMessage() != null && e.getMessage().contains("received no bytes")) {
            return "the engine closed the connection without answering (engine process died?)";
        }
        return e.toString();
    }
}
