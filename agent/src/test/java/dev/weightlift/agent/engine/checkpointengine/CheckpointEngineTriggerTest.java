package dev.weightlift.agent.engine.checkpointengine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.engine.EngineException;
import dev.weightlift.agent.engine.EngineProtocol;
import dev.weightlift.agent.engine.EngineType;
import dev.weightlift.agent.engine.TensorEntry;
import dev.weightlift.agent.engine.trigger.EngineHttp;
import dev.weightlift.agent.engine.trigger.EngineTrigger;
import dev.weightlift.agent.engine.trigger.EngineTriggers;
import dev.weightlift.agent.engine.trigger.SglangIpcTrigger;
import dev.weightlift.agent.engine.trigger.TriggerRequest;
import dev.weightlift.agent.engine.trigger.VllmCheckpointEngineTrigger;
import dev.weightlift.agent.engine.trigger.VllmNativeTrigger;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.ZContext;

/**
 * The checkpoint-engine protocol's triggers, as {@link EngineTriggers} makes them from the CR's fields, against a
 * stand-in engine API server (the JDK's HTTP server), and the whole SGLang flow.
 */
class CheckpointEngineTriggerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GPU = "GPU-5d1e4c6f-0000-4000-8000-000000000002";
    private static final Duration STEP = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final AtomicReference<JsonNode> received = new AtomicReference<>();
    private HttpServer server;
    private URI engine;

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.start();
        engine = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    @Test
    void sglangGetsTheHandlesFlushCacheAndVersionAndItsSuccessCompletesTheFuture() throws Exception {
        answer("/update_weights_from_ipc", 200, "{\"success\": true, \"message\": \"Succeeded to update model weights.\"}");
        assertEquals("Succeeded to update model weights.",
                sglang().start(request(Map.of(GPU, "tcp://10.0.0.7:41000"), "step-42", STEP)).get(20, TimeUnit.SECONDS));
        assertEquals(JSON.readTree("{\"zmq_handles\": {\"" + GPU + "\": \"tcp://10.0.0.7:41000\"},"
                + " \"flush_cache\": true, \"weight_version\": \"step-42\"}"), received.get());
    }

    @Test
    void sglangsFailureAnswerBecomesAnExceptionWithItsMessage() {
        answer("/update_weights_from_ipc", 400,
                "{\"success\": false, \"message\": \"Failed to update weights: Some workers failed\"}");
        EngineException e = failure(sglang().start(request(Map.of(GPU, "tcp://x:1"), null, STEP)));
        assertTrue(e.getMessage().contains("HTTP 400") && e.getMessage().contains("Some workers failed"),
                e.getMessage());
    }

    @Test
    void vllmGetsCheckpointEnginesCollectiveRpcBody() throws Exception {
        answer("/collective_rpc", 200, "{\"results\": [null, null]}");
        vllm().start(request(Map.of(GPU, "tcp://10.0.0.7:41000"), "v1", Duration.ofSeconds(300))).get(20, TimeUnit.SECONDS);
        assertEquals(JSON.readTree("{\"method\": \"update_weights_from_ipc\", \"args\": [{\"" + GPU
                + "\": \"tcp://10.0.0.7:41000\"}], \"timeout\": 300.0}"), received.get());
    }

    @Test
    void vllmsErrorStatusFailsTheFuture() {
        answer("/collective_rpc", 500, "{\"error\": \"RuntimeError: Some workers failed to update weights\"}");
        EngineException e = failure(vllm().start(request(Map.of(GPU, "tcp://x:1"), "v", STEP)));
        assertTrue(e.getMessage().contains("HTTP 500") && e.getMessage().contains("Some workers failed"),
                e.getMessage());
    }

    @Test
    void anEngineThatDoesNotAnswerFailsAtTheRequestDeadline() {
        server.createContext("/collective_rpc", exchange -> {
            try {
                Thread.sleep(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        EngineException e = failure(vllm().start(request(Map.of(GPU, "tcp://x:1"), "v", Duration.ofMillis(300))));
        assertTrue(e.getMessage().contains("POST " + engine + "/collective_rpc failed"), e.getMessage());
    }

    @Test
    void theFactoryPicksTheTriggerByTypeAndProtocolAndHonoursTheTriggerPath() throws Exception {
        assertInstanceOf(VllmNativeTrigger.class, EngineTriggers.create(EngineType.VLLM, EngineProtocol.NATIVE, http("vLLM"), null));
        assertInstanceOf(VllmCheckpointEngineTrigger.class, vllm());
        assertInstanceOf(SglangIpcTrigger.class, sglang());
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> EngineTriggers.create(EngineType.fromCr("sglang"), EngineProtocol.fromCr("native"), "127.0.0.1", 1, null));
        assertTrue(refused.getMessage().contains("set engine.protocol to checkpoint-engine"), refused.getMessage());
        answer("/v1/load", 200, "{\"success\": true, \"message\": \"ok\"}");
        EngineTrigger custom = EngineTriggers.create(EngineType.SGLANG, EngineProtocol.CHECKPOINT_ENGINE, http("SGLang"),
                "/v1/load");
        custom.start(request(Map.of(GPU, "tcp://10.0.0.7:1", "GPU-b", "tcp://10.0.0.8:2"), "v", STEP))
                .get(20, TimeUnit.SECONDS);
        assertEquals(JSON.readTree("{\"" + GPU + "\": \"tcp://10.0.0.7:1\", \"GPU-b\": \"tcp://10.0.0.8:2\"}"),
                received.get().get("zmq_handles"));
    }

    @Test
    void readinessWaitsForTheFirst200() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        server.createContext("/ping", exchange -> respond(exchange, calls.incrementAndGet() < 3 ? 503 : 200, ""));
        sglang().awaitReady(STEP);
        assertEquals(3, calls.get());
    }

    @Test
    void anEngineNeverReadyFailsNamingItsAddress() {
        answer("/health", 503, "");
        EngineException e = assertThrows(EngineException.class,
                () -> vllm().awaitReady(Duration.ofMillis(500)));
        assertTrue(e.getMessage().contains("not ready") && e.getMessage().contains("GET " + engine + "/health")
                && e.getMessage().contains("HTTP 503"), e.getMessage());
    }

    @Test
    void theWholeSglangUpdateRunsTriggerAndChannelTogether() throws Exception {
        server.createContext("/update_weights_from_ipc", this::sglangServingWorkers);
        try (ZContext context = new ZContext();
                CheckpointEngineChannel channel = CheckpointEngineChannel.bind(context, "127.0.0.1", GPU, 0)) {
            CompletableFuture<String> engineAnswer = sglang().start(request(Map.of(GPU, channel.address()), "step-7", STEP));
            channel.awaitConnected(STEP);
            channel.shareBuffer(ShareHandle.cudaIpc(GPU, 1 << 20, new byte[64]), STEP);
            for (int b = 0; b < 4; b++) {
                channel.sendBucket(List.of(new TensorEntry("w" + b, "BF16", new long[] {16, 16}, (b % 2) * 4096L, 512)));
                channel.awaitAck(STEP);
            }
            channel.release(STEP);
            channel.finish(STEP);
            engineAnswer.get(20, TimeUnit.SECONDS);
        }
    }

    /** SGLang's handler, shrunk: runs the receive loop of the worker of each GPU, answers when all are done. */
    private void sglangServingWorkers(HttpExchange exchange) throws IOException {
        JsonNode body = JSON.readTree(exchange.getRequestBody());
        String address = body.get("zmq_handles").get(GPU).asText();
        Path out = dir.resolve("worker.out");
        Process worker = Python.start(true, out, "ce_worker.py", address, "0", dir.resolve("events.jsonl").toString());
        try {
            int exit = Python.await(worker, STEP);
            respond(exchange, exit == 0 ? 200 : 400, "{\"success\": " + (exit == 0) + ", \"message\": "
                    + JSON.writeValueAsString(Python.read(out)) + "}");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            respond(exchange, 500, "{}");
        }
    }

    private EngineHttp http(String name) {
        return new EngineHttp(name, engine, Duration.ofMillis(20), Duration.ZERO);
    }

    private EngineTrigger sglang() {
        return EngineTriggers.create(EngineType.SGLANG, EngineProtocol.CHECKPOINT_ENGINE, http("SGLang"), null);
    }

    private EngineTrigger vllm() {
        return EngineTriggers.create(EngineType.VLLM, EngineProtocol.CHECKPOINT_ENGINE, http("vLLM"), null);
    }

    private static TriggerRequest request(Map<String, String> workers, String version, Duration timeout) {
        return TriggerRequest.checkpointEngine(workers, "ns/wu/1", version, timeout);
    }

    private void answer(String path, int status, String body) {
        server.createContext(path, exchange -> {
            byte[] request = exchange.getRequestBody().readAllBytes();
            if (request.length > 0) {
                received.set(JSON.readTree(request));
            }
            respond(exchange, status, body);
        });
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
        exchange.close();
    }

    private static EngineException failure(CompletableFuture<String> future) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> future.get(20, TimeUnit.SECONDS));
        return assertInstanceOf(EngineException.class, e.getCause());
    }
}
