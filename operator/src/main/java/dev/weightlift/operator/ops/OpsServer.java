package dev.weightlift.operator.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The operator's HTTP surface: {@code /livez} (the process answers), {@code /readyz} (the operator started and
 * its informers are healthy), {@code /metrics} (Prometheus text).
 */
public final class OpsServer implements AutoCloseable {

    private final HttpServer server;

    /** A health answer: ok, and a line saying why not when not. */
    public record Health(boolean ok, String detail) {
    }

    public OpsServer(int port, PrometheusMeterRegistry registry, Supplier<Health> readiness) throws IOException {
        server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext("/livez", exchange -> respond(exchange, 200, "text/plain", "ok\n"));
        server.createContext("/readyz", exchange -> {
            Health health = readiness.get();
            respond(exchange, health.ok() ? 200 : 503, "text/plain", (health.ok() ? "ok" : health.detail()) + "\n");
        });
        server.createContext("/metrics", exchange -> respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
        server.setExecutor(Executors.newFixedThreadPool(2, runnable -> {
            Thread thread = new Thread(runnable, "ops-http");
            thread.setDaemon(true);
            return thread;
        }));
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void respond(HttpExchange exchange, int code, String contentType, String body) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.sendResponseHeaders(code, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
