package dev.weightlift.agent.engine.trigger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

    private static final Logger LOG = LoggerFactory.getLogger(VllmNativeTrigger.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Duration DEFAULT_RESPONSE_MARGIN = Duration.ofSeconds(30);
    private static final Duration MAX_PROBE = Duration.ofSeconds(5);
    private static final int MAX_MESSAGE_CHARS = 4000;

    private final URI baseUri;
    private final HttpClient client;
    private final Duration pollInterval;
    private final Duration responseMargin;

    public VllmNativeTrigger(URI baseUri, Duration pollInterval) {
        this(baseUri, pollInterval, DEFAULT_RESPONSE_MARGIN);
    }

    /**
     * {@code responseMargin}: how much longer than the update's own deadline the HTTP call may take (the
     * engine's workers time out first and report why).
     */
    public VllmNativeTrigger(URI baseUri, Duration pollInterval, Duration responseMargin) {
        this.responseMargin = responseMargin;
        this.baseUri = baseUri.toString().endsWith("/") ? baseUri : URI.create(baseUri + "/");
        this.pollInterval = pollInterval;
        this.client = HttpClient.newBuilder().connectTimeout(MAX_PROBE).version(HttpClient.Version.HTTP_1_1).build();
    }

    public static VllmNativeTrigger at(String host, int port) {
        return new VllmNativeTrigger(URI.create("http://" + host + ":" + port + "/"), Duration.ofMillis(500));
    }

    @Override
    public void awaitReady(Duration timeout) throws EngineException {
        Instant deadline = Instant.now().plus(timeout);
        URI health = baseUri.resolve("health");
        String last = "no answer yet";
        while (true) {
            Duration remaining = Duration.between(Instant.now(), deadline);
            if (remaining.isNegative() || remaining.isZero()) {
                throw new EngineException("vLLM at " + baseUri + " not ready within " + timeout.toMillis() / 1000.0
                        + " s (GET /health: " + last + ")");
            }
            Duration probe = remaining.compareTo(MAX_PROBE) < 0 ? remaining : MAX_PROBE;
            try {
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(health).timeout(probe).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                last = "HTTP " + response.statusCode();
            } catch (IOException e) {
                boolean cutShortByOurDeadline = e instanceof HttpTimeoutException && probe.compareTo(MAX_PROBE) < 0;
                if (!cutShortByOurDeadline || last.equals("no answer yet")) {
                    last = describe(e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EngineException("interrupted waiting for vLLM at " + baseUri + " to be ready");
            }
            long pause = Math.min(pollInterval.toMillis(), Duration.between(Instant.now(), deadline).toMillis());
            if (pause > 0) {
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new EngineException("interrupted waiting for vLLM at " + baseUri + " to be ready");
                }
            }
        }
    }

    @Override
    public CompletableFuture<String> start(TriggerRequest request) {
        String body = body(request);
        HttpRequest http = HttpRequest.newBuilder(baseUri.resolve("collective_rpc"))
                .timeout(request.timeout().plus(responseMargin))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        LOG.info("triggering vLLM update engine={} update={} endpoint={}", baseUri, request.update(), request.endpoint());
        // A client of its own: the call must not go out on a pooled keep-alive connection the engine may be
        // closing at that moment, because a non-idempotent POST that failed that way cannot be retried.
        HttpClient once = HttpClient.newBuilder().connectTimeout(MAX_PROBE).version(HttpClient.Version.HTTP_1_1).build();
        return once.sendAsync(http, HttpResponse.BodyHandlers.ofString())
                .handle((response, error) -> {
                    if (error != null) {
                        Throwable cause = error instanceof CompletionException && error.getCause() != null
                                ? error.getCause() : error;
                        throw new CompletionException(new EngineException("vLLM at " + baseUri + " " + METHOD + " for update "
                                + request.update() + " failed: " + describe(cause), cause));
                    }
                    if (response.statusCode() != 200) {
                        throw new CompletionException(new EngineException("vLLM at " + baseUri + " answered HTTP "
                                + response.statusCode() + " to " + METHOD + " for update " + request.update() + ": "
                                + errorText(response.body())));
                    }
                    return response.body();
                });
    }

    String body(TriggerRequest request) {
        ObjectNode argument = MAPPER.createObjectNode()
                .put("endpoint", request.endpoint())
                .put("update", request.update())
                .put("timeout_s", request.timeout().toMillis() / 1000.0);
        ObjectNode body = MAPPER.createObjectNode().put("method", METHOD);
        try {
            body.putArray("args").add(MAPPER.writeValueAsString(argument));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a trigger request", e);
        }
        body.put("timeout", request.timeout().plus(responseMargin.dividedBy(2)).toMillis() / 1000.0);
        return body.toString();
    }

    /** vLLM answers {"detail": ...} (FastAPI) or plain text; the test engine {"error": ...}. */
    static String errorText(String body) {
        String text = body == null ? "" : body.strip();
        try {
            JsonNode json = MAPPER.readTree(text);
            if (json != null && json.isObject()) {
                JsonNode message = json.has("error") ? json.get("error") : json.get("detail");
                if (message != null) {
                    text = message.isTextual() ? message.asText() : message.toString();
                }
            }
        } catch (JsonProcessingException ignored) {
            // not JSON: the plain text is the message
        }
        if (text.isEmpty()) {
            return "(empty body)";
        }
        return text.length() > MAX_MESSAGE_CHARS ? "…" + text.substring(text.length() - MAX_MESSAGE_CHARS) : text;
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
