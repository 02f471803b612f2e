package dev.weightlift.operator.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weightlift.api.v1alpha1.Phase;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The ops endpoints over real HTTP, with the operator's readiness played by the test. */
class OpsServerTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void readinessFollowsTheOperatorAndMetricsAreTheRegistrys() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        UpdateMetrics metrics = new UpdateMetrics(registry);
        AtomicReference<OpsServer.Health> health = new AtomicReference<>(new OpsServer.Health(false, "operator not started"));
        try (OpsServer ops = new OpsServer(0, registry, health::get)) {
            assertEquals(200, get(ops, "/livez", "GET").statusCode());
            HttpResponse<String> notReady = get(ops, "/readyz", "GET");
            assertEquals(503, notReady.statusCode());
            assertEquals("operator not started\n", notReady.body());
            health.set(new OpsServer.Health(true, ""));
            assertEquals(200, get(ops, "/readyz", "GET").statusCode());

            metrics.phaseEntered(Phase.Loading);
            metrics.bytesMoved(1024);
            metrics.finished(Phase.Succeeded, Duration.ofSeconds(3));
            metrics.progress("rl", "step-1", 40);
            String body = get(ops, "/metrics", "GET").body();
            assertTrue(body.contains("weightlift_updates_total{phase=\"Loading\"} 1.0"), body);
            assertTrue(body.contains("weightlift_bytes_moved_total 1024.0"), body);
            assertTrue(body.contains("weightlift_update_duration_seconds_sum{outcome=\"Succeeded\"} 3.0"), body);
            assertTrue(body.contains("weightlift_update_progress_percent{name=\"step-1\",namespace=\"rl\"} 40.0"), body);
            metrics.forget("rl", "step-1");
            assertTrue(!get(ops, "/metrics", "GET").body().contains("weightlift_update_progress_percent"));

            assertEquals(405, get(ops, "/metrics", "POST").statusCode());
        }
    }

    private HttpResponse<String> get(OpsServer ops, String path, String method) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ops.port() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
