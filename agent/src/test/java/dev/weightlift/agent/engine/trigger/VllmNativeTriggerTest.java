package dev.weightlift.agent.engine.trigger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.weightlift.agent.engine.EngineException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The vLLM trigger against a real HTTP server that answers like vLLM, or fails like a sick one. */
class VllmNativeTriggerTest {

    private static final TriggerRequest REQUEST = TriggerRequest.nativeProtocol("unix:///run/weightlift/weightlift.sock",
            "ns/wu/1", "v1", Duration.ofSeconds(2));

    private HttpServer http;
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void stop() {
        release.countDown();
        if (http != null) {
            http.stop(0);
        }
    }

    private VllmNativeTrigger serve(int healthFailures, int status, String body, AtomicReference<String> received)
            throws IOException {
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        AtomicInteger probes = new AtomicInteger();
        http.createContext("/health", ex -> reply(ex, probes.incrementAndGet() > healthFailures ? 200 : 503, ""));
        http.createContext("/collective_rpc", ex -> {
            received.set(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            if (status == 0) {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            reply(ex, status == 0 ? 200 : status, body);
        });
        http.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        http.start();
        return new VllmNativeTrigger(new EngineHttp("vLLM", URI.create("http://127.0.0.1:" + http.getAddress().getPort()),
                Duration.ofMillis(20), EngineHttp.DEFAULT_RESPONSE_MARGIN), VllmNativeTrigger.DEFAULT_PATH);
    }

    private static void reply(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            ex.getResponseBody().write(bytes);
        }
        ex.close();
    }

    private static EngineException failure(java.util.concurrent.CompletableFuture<String> call) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof EngineException, e.getCause().toString());
        return (EngineException) e.getCause();
    }

    @Test
    void readinessIsPolledThenTheMethodIsCalledWithTheRequestAsOneJsonString() throws Exception {
        AtomicReference<String> received = new AtomicReference<>();
        VllmNativeTrigger trigger = serve(3, 200, "{\"results\":[{\"version\":\"1\"}]}", received);
        trigger.awaitReady(Duration.ofSeconds(5));
        assertEquals("{\"results\":[{\"version\":\"1\"}]}", trigger.start(REQUEST).get(10, TimeUnit.SECONDS));
        JsonNode body = new ObjectMapper().readTree(received.get());
        assertEquals(VllmNativeTrigger.METHOD, body.path("method").asText());
        JsonNode argument = new ObjectMapper().readTree(body.path("args").get(0).asText());
        assertEquals("ns/wu/1", argument.path("update").asText());
        assertEquals("unix:///run/weightlift/weightlift.sock", argument.path("endpoint").asText());
        assertEquals(2.0, argument.path("timeout_s").asDouble());
        assertTrue(body.path("timeout").asDouble() > 2.0);
    }

    @Test
    void aRequestWithoutTheNativeEndpointIsRefused() throws Exception {
        VllmNativeTrigger trigger = serve(0, 200, "{}", new AtomicReference<>());
        TriggerRequest checkpointEngine = TriggerRequest.checkpointEngine(java.util.Map.of("GPU-1", "tcp://h:1"), "u", "v",
                Duration.ofSeconds(1));
        assertThrows(IllegalArgumentException.class, () -> trigger.start(checkpointEngine));
    }

    @Test
    void anEngineThatStaysUnhealthyIsReportedWithItsLastAnswer() throws Exception {
        VllmNativeTrigger trigger = serve(Integer.MAX_VALUE, 200, "", new AtomicReference<>());
        EngineException e = assertThrows(EngineException.class, () -> trigger.awaitReady(Duration.ofMillis(300)));
        assertTrue(e.getMessage().contains("not ready") && e.getMessage().contains("HTTP 503"), e.getMessage());
    }

    @Test
    void anEngineThatIsDownIsReportedAsDown() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        VllmNativeTrigger trigger = VllmNativeTrigger.at("127.0.0.1", port);
        EngineException ready = assertThrows(EngineException.class, () -> trigger.awaitReady(Duration.ofMillis(300)));
        assertTrue(ready.getMessage().contains("connection refused"), ready.getMessage());
        assertTrue(failure(trigger.start(REQUEST)).getMessage().contains("connection refused (engine down)"));
    }

    @Test
    void anErrorAnswerCarriesTheEnginesMessage() throws Exception {
        VllmNativeTrigger trigger = serve(0, 500, "{\"error\": \"Traceback...\\nRuntimeError: injected failure at bucket 1\"}",
                new AtomicReference<>());
        String message = failure(trigger.start(REQUEST)).getMessage();
        assertTrue(message.contains("HTTP 500") && message.contains("injected failure at bucket 1"), message);
    }

    @Test
    void aSlowEngineMissesTheDeadline() throws Exception {
        serve(0, 0, "{}", new AtomicReference<>());
        TriggerRequest quick = TriggerRequest.nativeProtocol(REQUEST.endpoint(), REQUEST.update(), "v1", Duration.ofMillis(100));
        VllmNativeTrigger hurried = new VllmNativeTrigger(new EngineHttp("vLLM",
                URI.create("http://127.0.0.1:" + http.getAddress().getPort()), Duration.ofMillis(20), Duration.ofMillis(100)),
                VllmNativeTrigger.DEFAULT_PATH);
        String message = failure(hurried.start(quick)).getMessage();
        assertTrue(message.contains("no answer before the deadline"), message);
    }

    @Test
    void errorBodiesAreShortenedToTheirTail() {
        assertEquals("boom", EngineHttp.errorText("{\"detail\": \"boom\"}"));
        assertEquals("plain text", EngineHttp.errorText("plain text\n"));
        assertEquals("(empty body)", EngineHttp.errorText(""));
        assertEquals("Some workers failed", EngineHttp.errorText("{\"success\": false, \"message\": \"Some workers failed\"}"));
        String longText = "x".repeat(10_000) + "END";
        assertTrue(EngineHttp.errorText(longText).endsWith("END"));
        assertTrue(EngineHttp.errorText(longText).length() < 5000);
    }
}
