package dev.weightlift.operator.reconciler.scaleup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.weightlift.api.v1alpha1.EngineSpec;
import dev.weightlift.api.v1alpha1.EngineType;
import dev.weightlift.operator.reconciler.weightupdate.Target;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP probe against a real HTTP server on 127.0.0.1 standing in for the engine's API server. */
class HttpEngineProbeTest {

    private static final Target POD = new Target("rl", "llm-0", "uid", "node-a", "127.0.0.1", List.of());

    private final Map<String, Integer> answers = new ConcurrentHashMap<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private volatile boolean hang;
    private HttpServer server;

    @BeforeEach
    void startEngine() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(threads);
        server.createContext("/", exchange -> {
            if (hang) {
                awaitRelease();
            }
            int status = answers.getOrDefault(exchange.getRequestURI().getPath(), 404);
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stopEngine() {
        release.countDown();
        server.stop(0);
        threads.shutdownNow();
    }

    @Test
    void vllmIsUpWhenHealthAnswers200() {
        answers.put("/health", 200);
        EngineProbe.Health health = probe(EngineType.VLLM, server.getAddress().getPort());
        assertTrue(health.up(), health.detail());
        assertEquals("GET http://127.0.0.1:" + server.getAddress().getPort() + "/health answered HTTP 200", health.detail());
    }

    @Test
    void vllmIsDownWhileHealthAnswers503() {
        answers.put("/health", 503);
        EngineProbe.Health health = probe(EngineType.VLLM, server.getAddress().getPort());
        assertFalse(health.up());
        assertTrue(health.detail().endsWith("/health answered HTTP 503"), health.detail());
    }

    @Test
    void sglangFallsBackToPingWhenHealthIsNotFound() {
        answers.put("/ping", 200);
        EngineProbe.Health health = probe(EngineType.SGLANG, server.getAddress().getPort());
        assertTrue(health.up(), health.detail());
        assertTrue(health.detail().endsWith("/ping answered HTTP 200"), health.detail());
        assertFalse(probe(EngineType.VLLM, server.getAddress().getPort()).up(), "vLLM has no /ping fallback");
    }

    @Test
    void nothingListeningIsDown() throws IOException {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        EngineProbe.Health health = probe(EngineType.VLLM, port);
        assertFalse(health.up());
        assertTrue(health.detail().startsWith("GET http://127.0.0.1:" + port + "/health failed"), health.detail());
    }

    @Test
    void anEngineThatDoesNotAnswerIsDownWithinTheDeadline() {
        hang = true;
        long start = System.nanoTime();
        EngineProbe.Health health = probe(EngineType.VLLM, server.getAddress().getPort());
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertFalse(health.up());
        assertTrue(health.detail().endsWith("did not answer within 300 ms"), health.detail());
        assertTrue(millis < 3000, "took " + millis + " ms");
    }

    @Test
    void aPodWithoutIpIsDown() {
        EngineProbe.Health health = new HttpEngineProbe(Duration.ofMillis(300)).probe(new Target("rl", "llm-0", "uid", "node-a", null, List.of()),
                engine(EngineType.VLLM, 8000));
        assertEquals(EngineProbe.Health.down("the pod has no IP yet"), health);
    }

    private EngineProbe.Health probe(EngineType type, int port) {
        return new HttpEngineProbe(Duration.ofMillis(300)).probe(POD, engine(type, port));
    }

    private static EngineSpec engine(EngineType type, int port) {
        EngineSpec engine = new EngineSpec();
        engine.setType(type);
        engine.setPort(port);
        return engine;
    }

    private void awaitRelease() {
        try {
            release.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
